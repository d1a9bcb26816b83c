"""`erh-report meta`: one meta-analysis of a CSV file with metafor's column names, read with the data
folder's own reader (`command`), several effects per study (`dependent`), printed as metafor prints
(`console`)."""
