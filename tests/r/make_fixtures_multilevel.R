# Reference values from R metafor (with clubSandwich) for tests/test_multilevel_parity.py: the three-level
# model rma.mv(yi, vi, random = ~ 1 | study/es_id), robust(..., clubSandwich = TRUE) on it and on rma.uni,
# and aggregate() of an escalc object with compound symmetry.
#
# Run from the repository root:  Rscript tests/r/make_fixtures_multilevel.R
# Needs R with metafor, metadat, clubSandwich and jsonlite
# (Debian: apt-get install -y r-cran-metafor r-cran-metadat r-cran-clubsandwich r-cran-jsonlite).
# Writes the data sets to tests/data/multilevel/*.csv and the results to tests/fixtures/metafor/multilevel.json.
#
# rma.mv's default optimiser (nlminb on log variance components) stops where the likelihood is flat to
# about 1e-10, which leaves the variance components uncertain in the 7th digit. Each fit is therefore
# also run to the exact optimum: Fisher scoring on the dense (restricted) likelihood score, started from
# metafor's estimates, until the components move by less than 1e-15 relative; metafor then refits with
# the variance components fixed there (sigma2 = ...) and reports every other number itself. The usual
# models are fitted both to the exact optimum (threshold 1e-12) and with metafor's defaults ("default").

suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})

out_dir <- "tests/fixtures/metafor"
data_dir <- "tests/data/multilevel"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)
num <- function(x) if (is.null(x)) NULL else unname(as.numeric(x))

# ------------------------------------------------------------------------------------------ data sets
# Every data set is written as CSV (yi, vi, study, es_id, moderators) and read back, so that R and the
# tests use the same numbers to the last digit.
datasets <- list()
d <- dat.konstantopoulos2011
datasets$konstantopoulos2011 <- data.frame(yi = d$yi, vi = d$vi, study = d$district, es_id = d$school,
                                           year = d$year - 1990)
d <- dat.assink2016
datasets$assink2016 <- data.frame(yi = d$yi, vi = d$vi, study = d$study, es_id = d$esid, year = d$year,
                                  pubstatus = d$pubstatus, deltype_overt = as.numeric(d$deltype == "overt"))
d <- dat.bornmann2007
es <- escalc("OR", ai = d$waward, n1i = d$wtotal, ci = d$maward, n2i = d$mtotal)
datasets$bornmann2007 <- data.frame(yi = num(es$yi), vi = num(es$vi), study = d$study, es_id = d$obs,
                                    fellowship = as.numeric(d$type == "Fellowship"), year = d$year - 2000)

simulate <- function(seed, n_studies, sizes, between, within, slope = 0) {
  set.seed(seed)
  n_i <- sample(sizes, n_studies, replace = TRUE)
  study <- rep(seq_len(n_studies), n_i)
  es_id <- unlist(lapply(n_i, seq_len))
  dose <- round(runif(n_studies, 0, 10), 1)[study]
  vi <- round(runif(length(study), 0.01, 0.12), 4)
  yi <- 0.3 + slope * dose + rnorm(n_studies, 0, sqrt(between))[study] + rnorm(length(study), 0, sqrt(within)) +
    rnorm(length(study), 0, sqrt(vi))
  data.frame(yi = round(yi, 5), vi = vi, study = paste0("S", study), es_id = es_id, dose = dose,
             followup = round(runif(length(study), 0, 1)))
}
datasets$sim_mixed <- simulate(1, 40, 1:6, 0.05, 0.03, slope = 0.02)
datasets$sim_within0 <- simulate(2, 25, 2:4, 0.08, 0)
datasets$sim_between0 <- simulate(3, 30, 1:5, 0, 0.04)
datasets$sim_review <- simulate(4, 93, c(1, 1, 1, 2, 2, 3, 4), 0.04, 0.02, slope = 0.01)
datasets$sim_small <- simulate(5, 6, 2:3, 0.1, 0.05)

for (nm in names(datasets)) write.csv(datasets[[nm]], file.path(data_dir, paste0(nm, ".csv")), row.names = FALSE)
read_data <- function(nm) read.csv(file.path(data_dir, paste0(nm, ".csv")), stringsAsFactors = FALSE)

# --------------------------------------------------------------------------------- exact optimum
exact_sigma2 <- function(dat, X, s, reml) {
  k <- nrow(dat)
  Z <- model.matrix(~ factor(dat$study) - 1)
  dM <- list(tcrossprod(Z), diag(k))
  for (it in seq_len(500)) {
    M <- diag(dat$vi) + s[1] * dM[[1]] + s[2] * dM[[2]]
    Mi <- chol2inv(chol(M))
    A <- chol2inv(chol(t(X) %*% Mi %*% X))
    P <- Mi - Mi %*% X %*% A %*% t(X) %*% Mi
    Q <- if (reml) P else Mi
    Py <- P %*% dat$yi
    g <- sapply(dM, function(D) -0.5 * sum(Q * D) + 0.5 * c(t(Py) %*% D %*% Py))
    info <- matrix(0, 2, 2)
    for (a in 1:2) for (b in 1:2) info[a, b] <- 0.5 * sum((Q %*% dM[[a]]) * t(Q %*% dM[[b]]))
    free <- s > 0 | g > 0
    step <- rep(0, 2)
    if (any(free)) step[free] <- solve(info[free, free, drop = FALSE], g[free])
    new <- pmax(s + step, 0)
    done <- all(abs(new - s) <= 1e-15 * pmax(new, 1e-12))
    s <- new
    if (done) break
  }
  s
}

moderator_matrix <- function(dat, mods) {
  if (length(mods) == 0) return(matrix(1, nrow(dat), 1))
  cbind(1, as.matrix(dat[, mods, drop = FALSE]))
}

fit_mv <- function(dat, method, mods, sigma2 = NULL) {
  f <- if (length(mods)) reformulate(mods) else ~ 1
  if (is.null(sigma2)) {
    rma.mv(yi, vi, mods = f, random = ~ 1 | study / es_id, data = dat, method = method)
  } else {
    rma.mv(yi, vi, mods = f, random = ~ 1 | study / es_id, data = dat, method = method, sigma2 = sigma2)
  }
}

i2_levels <- function(res) {
  # Cheung (2014), as metafor's documentation computes it (the "typical" sampling variance from P)
  W <- diag(1 / res$vi)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  100 * res$sigma2 / (sum(res$sigma2) + (res$k - res$p) / sum(diag(P)))
}

robust_of <- function(res, cluster) {
  rob <- robust(res, cluster = cluster, clubSandwich = TRUE)
  list(se = num(rob$se), tval = num(rob$zval), df = num(rob$ddf), pval = num(rob$pval), ci_lb = num(rob$ci.lb),
       ci_ub = num(rob$ci.ub))
}

coefficients_of <- function(res) {
  list(beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval), ci_lb = num(res$ci.lb),
       ci_ub = num(res$ci.ub), QE = res$QE, QEp = res$QEp, QM = res$QM, QMp = res$QMp)
}

multilevel_case <- function(nm, method = "REML", mods = character(0)) {
  dat <- read_data(nm)
  default <- fit_mv(dat, method, mods)
  s <- exact_sigma2(dat, moderator_matrix(dat, mods), default$sigma2, method == "REML")
  res <- fit_mv(dat, method, mods, sigma2 = s)
  pr <- predict(res)
  out <- c(list(name = paste(nm, method, paste(mods, collapse = "+"), sep = "-"), model = "multilevel",
                dataset = file.path(data_dir, paste0(nm, ".csv")), method = method, mods = mods,
                k = res$k, n_clusters = res$s.nlevels[1], sigma2 = num(res$sigma2),
                sigma2_default = num(default$sigma2), beta_default = num(default$beta), se_default = num(default$se),
                loglik = as.numeric(logLik(res)), i2_levels = num(i2_levels(res))),
           coefficients_of(res))
  if (res$p == 1) {
    out$pred <- list(pred = num(pr$pred), se = num(pr$se), ci_lb = num(pr$ci.lb), ci_ub = num(pr$ci.ub),
                     pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub))
  }
  out$robust <- robust_of(res, dat$study)
  out
}

uni_case <- function(nm, method = "REML", mods = character(0)) {
  dat <- read_data(nm)
  f <- if (length(mods)) reformulate(mods) else ~ 1
  res <- rma(yi, vi, mods = f, data = dat, method = method, control = list(threshold = 1e-12, maxiter = 10000))
  default <- rma(yi, vi, mods = f, data = dat, method = method)
  c(list(name = paste(nm, "uni", method, paste(mods, collapse = "+"), sep = "-"), model = "uni",
         dataset = file.path(data_dir, paste0(nm, ".csv")), method = method, mods = mods, k = res$k,
         tau2 = res$tau2),
    coefficients_of(res), list(robust = robust_of(res, dat$study), default = c(list(tau2 = default$tau2),
    coefficients_of(default), list(robust = robust_of(default, dat$study)))))
}

aggregate_case <- function(nm, rho, method = "REML", mods = character(0)) {
  dat <- read_data(nm)
  es <- escalc(measure = "GEN", yi = yi, vi = vi, data = dat)
  agg <- aggregate(es, cluster = study, rho = rho)
  f <- if (length(mods)) reformulate(mods) else ~ 1
  res <- rma(yi, vi, mods = f, data = agg, method = method, control = list(threshold = 1e-12, maxiter = 10000))
  default <- rma(yi, vi, mods = f, data = agg, method = method)
  c(list(default = c(list(tau2 = default$tau2), coefficients_of(default)), name = paste(nm, "aggregate", rho, method, paste(mods, collapse = "+"), sep = "-"), model = "aggregate",
         dataset = file.path(data_dir, paste0(nm, ".csv")), rho = rho, method = method, mods = mods,
         study = agg$study, yi = num(agg$yi), vi = num(agg$vi),
         moderators = lapply(mods, function(m) num(agg[[m]])), k = res$k, tau2 = res$tau2),
    coefficients_of(res))
}

aggregate_error <- function(nm, rho) {
  dat <- read_data(nm)
  es <- escalc(measure = "GEN", yi = yi, vi = vi, data = dat)
  msg <- tryCatch({ aggregate(es, cluster = study, rho = rho); NULL }, error = function(e) conditionMessage(e))
  list(name = paste(nm, "aggregate-error", rho, sep = "-"), model = "aggregate_error",
       dataset = file.path(data_dir, paste0(nm, ".csv")), rho = rho, error = msg)
}

cases <- list(
  multilevel_case("konstantopoulos2011"),
  multilevel_case("konstantopoulos2011", "ML"),
  multilevel_case("konstantopoulos2011", "REML", "year"),
  multilevel_case("assink2016"),
  multilevel_case("assink2016", "ML"),
  multilevel_case("assink2016", "REML", c("year", "pubstatus")),
  multilevel_case("assink2016", "ML", "deltype_overt"),
  multilevel_case("bornmann2007"),
  multilevel_case("bornmann2007", "REML", "fellowship"),
  multilevel_case("bornmann2007", "ML", c("fellowship", "year")),
  multilevel_case("sim_mixed"),
  multilevel_case("sim_mixed", "REML", "dose"),
  multilevel_case("sim_within0"),
  multilevel_case("sim_between0"),
  multilevel_case("sim_review", "REML", "dose"),
  multilevel_case("sim_review"),
  multilevel_case("sim_small"),
  uni_case("konstantopoulos2011"),
  uni_case("assink2016", "REML", "year"),
  uni_case("assink2016", "DL"),
  uni_case("assink2016", "FE"),
  uni_case("bornmann2007", "REML", "fellowship"),
  uni_case("sim_mixed", "ML", c("dose", "followup")),
  uni_case("sim_small"),
  aggregate_case("konstantopoulos2011", 0.5),
  aggregate_case("assink2016", 0.6),
  aggregate_case("assink2016", 0, "DL"),
  aggregate_case("assink2016", 0.95),
  aggregate_error("assink2016", 1),
  aggregate_case("bornmann2007", 0.8, "REML", "fellowship"),
  aggregate_case("sim_mixed", -0.1, "REML", "dose"),
  aggregate_case("sim_review", 0.7, "REML", "dose"),
  aggregate_error("sim_mixed", -0.6)
)

doc <- list(metafor = as.character(packageVersion("metafor")),
            clubSandwich = as.character(packageVersion("clubSandwich")), R = R.version.string, cases = cases)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
           file.path(out_dir, "multilevel.json"))
