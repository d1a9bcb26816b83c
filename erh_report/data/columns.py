"""The columns of outcome_data.csv in the order every writer of a data folder uses (the generator of the
example and the importers), kept in one place so that the two never disagree."""

OUTCOME_COLUMNS = (
    "study_id",
    "outcome",
    "instrument",
    "followup_months",
    "arm",
    "role",
    "n",
    "mean",
    "sd",
    "events",
    "total",
    "yi",
    "sei",
    "n_total",
    "subgroup",
)
