import argparse
import sys

from evals.runner import main_from_arguments

parser = argparse.ArgumentParser(prog="python -m evals", description="Run the eval suite: every article in its own temporary index.")
parser.add_argument("--json", dest="json_path", metavar="PATH", help="write the per-question run as JSON")
parser.add_argument("--compare", action="store_true", help="also run dense-only and MiniLM configurations")
parser.add_argument("--dataset", help="the seed article's cases (default: evals/dataset.yaml)")
parser.add_argument("--misses", action="store_true", help="list the cases answered wrongly (leave-one-article-out)")
parser.add_argument("--report", dest="report_path", metavar="PATH", help="also write the tables, a chart and the misses as one HTML file")
parser.add_argument("--markdown", action="store_true", help="print the quality tables as Markdown (the tables in docs/quality.md)")
parser.add_argument("--fit", action="store_true", help="refit the answerability model on every article and save it")
parser.add_argument("--realqa", action="store_true", help="the real-data tier: ../shared/realqa/ validation questions, one passage per index")
parser.add_argument("--limit", type=int, help="with --realqa: about this many questions per dataset (whole passages)")
sys.exit(main_from_arguments(parser.parse_args()))
