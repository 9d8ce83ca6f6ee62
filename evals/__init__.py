"""The eval suite: retrieval (hit@1, hit@3, MRR, nDCG@5, recall@5 via trec_eval) and answers
(answer rate, abstention precision/recall, citation precision/recall), per question language."""
