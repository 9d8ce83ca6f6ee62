import argparse
import sys

from evals.runner import main

parser = argparse.ArgumentParser(prog="python -m evals", description="Run the eval suite on a temporary index.")
parser.add_argument("--json", dest="json_path", metavar="PATH")
parser.add_argument("--compare", action="store_true")
parser.add_argument("--dataset")
parser.add_argument("--misses", action="store_true")
args = parser.parse_args()
sys.exit(main(json_path=args.json_path, compare=args.compare, dataset=args.dataset, misses=args.misses))
