"""Tools for reviewing a pull request: model conventions (`check-models`), slim CI (`slim-ci`) and the data diff.

See CONTRIBUTING.md for the workflow they belong to.
"""
