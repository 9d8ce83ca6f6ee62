import argparse
import sys

from evals.runner import main

parser = argparse.ArgumentParser(prog="python -m evals", description="Run the eval suite: every article in its own temporary index.")
parser.add_argument("--json", dest="json_path", metavar="PATH", help="write the per-question run as JSON")
parser.add_argument("--compare", action="store_true", help="also run dense-only and MiniLM configurations")
parser.add_argument("--dataset", help="the seed article's cases (default: evals/dataset.yaml)")
parser.add_argument("--misses", action="store_true", help="list the cases answered wrongly (leave-one-article-out)")
parser.add_argument("--markdown", action="store_true", help="print the quality tables as Markdown (the tables in docs/quality.md)")
parser.add_argument("--fit", action="store_true", help="refit the answerability model on every article and save it")
args = parser.parse_args()
sys.exit(main(json_path=args.json_path, compare=args.compare, dataset=args.dataset, misses=args.misses, as_markdown=args.markdown, fit=args.fit))
