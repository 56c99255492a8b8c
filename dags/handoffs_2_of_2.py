"""Airflow DAG loader, shard 2 of 2: one DAG per accepted HANDOFF/V1 contract.

The contracts in include/handoffs/ (or $HANDOFF_DIR) are split over the loader files by file
name (handoff.render.shards) so Airflow's DAG processor parses the shards in parallel. A
broken contract shows up as one import error of the loader file that owns it, naming the
contract's file and line; the other handoffs keep their DAGs. To use more parsing processes,
replace these files with handoffs_1_of_N.py ... handoffs_N_of_N.py (same content).
"""

from handoff.render.loader import publish

publish(globals(), __file__)
