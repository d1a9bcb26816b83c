# Reference values from R metafor (with clubSandwich) for several effects per study in a review and in
# `erh-report meta`: predict() of a robust() model (t with the Satterthwaite df, robust SE, the model's
# heterogeneity), weights() of rma.mv, and regtest()/trimfill() after aggregate().
#
# Run from the repository root:  Rscript tests/r/make_fixtures_dependence.R
# Needs R with metafor, clubSandwich and jsonlite. Reads tests/data/multilevel/*.csv (written by
# make_fixtures_multilevel.R) and writes tests/fixtures/metafor/dependence.json.
#
# The three-level models are refitted with their variance components fixed at the exact optimum stored in
# multilevel.json (as make_fixtures_multilevel.R does), and the usual models with metafor's defaults, so
# that every number is metafor's at the optimum that erh_report reaches.

suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

num <- function(x) unname(as.numeric(x))
read_data <- function(nm) read.csv(file.path("tests/data/multilevel", paste0(nm, ".csv")), stringsAsFactors = FALSE)
pred_of <- function(p) list(pred = num(p$pred), se = num(p$se), ci_lb = num(p$ci.lb), ci_ub = num(p$ci.ub),
                            pi_lb = num(p$pi.lb), pi_ub = num(p$pi.ub))

exact <- fromJSON("tests/fixtures/metafor/multilevel.json", simplifyVector = FALSE)$cases
sigma2_of <- function(name) unlist(Filter(function(case) case$name == name, exact)[[1]]$sigma2)

cases <- list()
for (nm in c("sim_small", "assink2016", "sim_mixed")) {
  dat <- read_data(nm)
  res <- rma.mv(yi, vi, random = ~ 1 | study / es_id, data = dat, sigma2 = sigma2_of(paste0(nm, "-REML-")))
  rob <- robust(res, cluster = dat$study, clubSandwich = TRUE)
  agg <- aggregate(escalc(yi = yi, vi = vi, data = dat), cluster = study, rho = 0.6)
  uni <- rma(yi, vi, data = agg)  # metafor's default threshold, as fit() follows it
  urob <- robust(uni, cluster = agg$study, clubSandwich = TRUE)
  rt <- regtest(uni)
  tf <- trimfill(uni)
  cases[[nm]] <- list(
    dataset = file.path("tests/data/multilevel", paste0(nm, ".csv")),
    multilevel = list(sigma2 = num(res$sigma2), weights = num(weights(res)), predict = pred_of(predict(res)),
                      robust_predict = pred_of(predict(rob)), robust_df = num(rob$ddf)),
    aggregate = list(rho = 0.6, yi = num(agg$yi), vi = num(agg$vi), tau2 = num(uni$tau2),
                     robust_predict = pred_of(predict(urob)), robust_df = num(urob$ddf),
                     regtest = list(zval = num(rt$zval), pval = num(rt$pval), est = num(rt$est)),
                     trimfill = list(k0 = num(tf$k0), side = tf$side, beta = num(tf$beta), ci_lb = num(tf$ci.lb),
                                     ci_ub = num(tf$ci.ub)))
  )
}
writeLines(toJSON(list(metafor = as.character(packageVersion("metafor")),
                       clubSandwich = as.character(packageVersion("clubSandwich")), cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/fixtures/metafor/dependence.json")
