"""The Handoffs page in the Airflow UI: a FastAPI app (plugin) and the report extra link."""
