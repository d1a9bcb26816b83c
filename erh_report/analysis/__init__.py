"""The analysis core: pure functions on arrays that return immutable results (no I/O).

effect_sizes (escalc) -> model (rma, predict) -> heterogeneity (confint), subgroup, bias (regtest,
trimfill), sensitivity (leave1out). tau2 holds the estimators, wls the batched algebra they share.
Several effects per study: multilevel (rma.mv with study/es_id), robust (robust() with clubSandwich's
CR2), aggregate (aggregate.escalc), on the cluster bookkeeping of clusters.
"""
