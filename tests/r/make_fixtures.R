# Reference values from R metafor for tests/test_metafor_parity.py.
#
# Run from the repository root:  Rscript tests/r/make_fixtures.R
# Needs R with metafor and jsonlite (Debian: apt-get install -y r-cran-metafor r-cran-jsonlite).
# Writes tests/fixtures/metafor/*.json; the tests read those and need no R.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- "tests/fixtures/metafor"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ref <- function(name) file.path("tests/data/reference", paste0(name, ".csv"))
read_ref <- function(name) read.csv(ref(name), check.names = FALSE, stringsAsFactors = FALSE)

num <- function(x) if (is.null(x)) NULL else unname(as.numeric(x))

write_cases <- function(cases, file) {
  doc <- list(metafor = as.character(packageVersion("metafor")), R = R.version.string, cases = cases)
  writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
             file.path(out_dir, file))
}

try_or_error <- function(expr) tryCatch(expr, error = function(e) structure(list(message = conditionMessage(e)),
                                                                             class = "failed"))
failed <- function(x) inherits(x, "failed")

# Edge cases, written out as CSV files beside the published data so that the tests can read them.
edge_dir <- "tests/data/edge"
dir.create(edge_dir, recursive = TRUE, showWarnings = FALSE)
edge <- list(
  one_study = data.frame(yi = 0.42, vi = 0.05),
  two_studies = data.frame(yi = c(0.1, 0.9), vi = c(0.04, 0.09)),
  homogeneous = data.frame(yi = c(0.30, 0.31, 0.29, 0.30, 0.32, 0.28), vi = c(0.02, 0.05, 0.03, 0.08, 0.04, 0.06)),
  equal_variances = data.frame(yi = c(-0.2, 0.4, 0.1, 0.8, 0.3), vi = rep(0.05, 5)),
  extreme_heterogeneity = data.frame(yi = c(-4.1, 3.8, 0.2, 6.5, -2.7, 9.9, 0.4), vi = c(0.001, 0.002, 0.0015, 0.001,
                                                                                      0.003, 0.002, 0.001)),
  tiny_samples = data.frame(n1i = c(2, 3, 2, 4), m1i = c(1.2, 0.4, 2.2, 1.0), sd1i = c(0.5, 0.9, 1.4, 0.7),
                            n2i = c(2, 2, 3, 3), m2i = c(0.7, 0.6, 1.1, 0.3), sd2i = c(0.6, 0.4, 1.0, 0.9)),
  zero_cells = data.frame(ai = c(0, 3, 0, 12, 5), n1i = c(25, 40, 18, 100, 60), ci = c(4, 0, 0, 15, 9),
                          n2i = c(24, 41, 20, 98, 61))
)
for (nm in names(edge)) write.csv(edge[[nm]], file.path(edge_dir, paste0(nm, ".csv")), row.names = FALSE)
data_path <- function(name) if (file.exists(ref(name))) ref(name) else file.path(edge_dir, paste0(name, ".csv"))

# ------------------------------------------------------------------------------------------ escalc
escalc_specs <- list(
  list("bcg", "OR", c(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg")),
  list("bcg", "RR", c(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg")),
  list("bcg", "RD", c(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg")),
  list("hine1989", "OR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("hine1989", "RR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("hine1989", "RD", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("egger2001", "OR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("egger2001", "RR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("nielweise2007", "OR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("nielweise2007", "RR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("nielweise2007", "RD", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("dersimonian2007_clasp", "OR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("normand1999", "SMD", c(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")),
  list("normand1999", "MD", c(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")),
  list("borenstein2009_smd", "SMD", c(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i",
                                      n2i = "n2i")),
  list("curtis1998", "SMD", c(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")),
  list("curtis1998", "MD", c(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")),
  list("molloy2014", "COR", c(ri = "ri", ni = "ni")),
  list("molloy2014", "ZCOR", c(ri = "ri", ni = "ni")),
  list("raudenbush1985", "GEN", c(yi = "yi", vi = "vi"))
)
edge_escalc <- list(
  list("tiny_samples", "SMD", c(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")),
  list("zero_cells", "OR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("zero_cells", "RR", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("zero_cells", "RD", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i"))
)

effect_sizes <- function(spec) {
  dat <- read.csv(data_path(spec[[1]]), check.names = FALSE, stringsAsFactors = FALSE)
  cols <- spec[[3]]
  args <- lapply(cols, function(col) dat[[col]])
  measure <- spec[[2]]
  if (measure == "GEN") {
    es <- escalc(measure = "GEN", yi = args$yi, vi = args$vi)
  } else {
    es <- do.call(escalc, c(list(measure = measure), args))
  }
  list(dataset = data_path(spec[[1]]), measure = measure, columns = as.list(cols), yi = num(es$yi), vi = num(es$vi))
}

escalc_cases <- lapply(c(escalc_specs, edge_escalc), function(spec) {
  c(list(name = paste(spec[[1]], spec[[2]], sep = "-")), effect_sizes(spec))
})
write_cases(escalc_cases, "escalc.json")

# --------------------------------------------------------------------------------------------- rma
result_of <- function(res, with_confint = TRUE) {
  out <- list(beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
              ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = res$tau2, se_tau2 = res$se.tau2,
              I2 = res$I2, H2 = res$H2, QE = res$QE, QEp = res$QEp, weights = num(weights(res)))
  if (res$p > 1) {
    out$QM <- res$QM
    out$QMp <- res$QMp
    out$R2 <- if (is.null(res$R2)) NULL else res$R2
  } else {
    pr <- predict(res)
    out$pred <- list(pred = num(pr$pred), se = num(pr$se), ci_lb = num(pr$ci.lb), ci_ub = num(pr$ci.ub),
                     pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub))
    if (with_confint && res$method != "FE" && res$k > 2) {
      ci <- try_or_error(confint(res))
      if (!failed(ci)) {
        r <- ci$random
        out$confint <- list(tau2 = num(r["tau^2", ]), tau = num(r["tau", ]), I2 = num(r["I^2(%)", ]),
                            H2 = num(r["H^2", ]))
      }
    }
  }
  out
}

yv_sets <- list(
  bcg = function() { d <- read_ref("bcg"); es <- escalc("RR", ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg)
                     list(yi = num(es$yi), vi = num(es$vi), data = d, dataset = ref("bcg")) },
  normand1999 = function() { d <- read_ref("normand1999")
                     es <- escalc("SMD", m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i)
                     list(yi = num(es$yi), vi = num(es$vi), data = d, dataset = ref("normand1999")) },
  raudenbush1985 = function() { d <- read_ref("raudenbush1985")
                     list(yi = d$yi, vi = d$vi, data = d, dataset = ref("raudenbush1985")) },
  bangertdrowns2004 = function() { d <- read_ref("bangertdrowns2004")
                     list(yi = d$yi, vi = d$vi, data = d, dataset = ref("bangertdrowns2004")) },
  molloy2014 = function() { d <- read_ref("molloy2014"); es <- escalc("ZCOR", ri = d$ri, ni = d$ni)
                     list(yi = num(es$yi), vi = num(es$vi), data = d, dataset = ref("molloy2014")) },
  hine1989 = function() { d <- read_ref("hine1989")
                     es <- escalc("OR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
                     list(yi = num(es$yi), vi = num(es$vi), data = d, dataset = ref("hine1989")) },
  viechtbauer2005_ex1 = function() { d <- read_ref("viechtbauer2005_ex1")
                     list(yi = d$yi, vi = d$vi, data = d, dataset = ref("viechtbauer2005_ex1")) },
  viechtbauer2005_ex2 = function() { d <- read_ref("viechtbauer2005_ex2")
                     list(yi = d$yi, vi = d$vi, data = d, dataset = ref("viechtbauer2005_ex2")) },
  kacker2004 = function() { d <- read_ref("kacker2004")
                     list(yi = d$yi, vi = d$vi, data = d, dataset = ref("kacker2004")) }
)

edge_set <- function(nm, measure = NULL) {
  force(nm)
  force(measure)
  function() {
  d <- read.csv(file.path(edge_dir, paste0(nm, ".csv")))
  if (is.null(measure)) return(list(yi = d$yi, vi = d$vi, data = d, dataset = file.path(edge_dir, paste0(nm, ".csv"))))
  es <- if (measure == "SMD") escalc("SMD", m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i)
        else escalc(measure, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  list(yi = num(es$yi), vi = num(es$vi), data = d, dataset = file.path(edge_dir, paste0(nm, ".csv")))
  }
}
for (nm in c("one_study", "two_studies", "homogeneous", "equal_variances", "extreme_heterogeneity")) {
  yv_sets[[nm]] <- edge_set(nm)
}
yv_sets[["tiny_samples"]] <- edge_set("tiny_samples", "SMD")
yv_sets[["zero_cells"]] <- edge_set("zero_cells", "OR")
yv_sets[["zero_cells_rd"]] <- edge_set("zero_cells", "RD")

methods <- c("FE", "DL", "HE", "SJ", "ML", "REML", "EB", "PM")
tight <- list(threshold = 1e-12, maxiter = 100000, stepadj = 0.5, tol = .Machine$double.eps^0.75)

rma_case <- function(set, method, test = "z", level = 95, mods = NULL) {
  s <- yv_sets[[set]]()
  yi <- s$yi; vi <- s$vi
  rows <- NULL
  X <- NULL
  if (!is.null(mods)) {
    X <- as.matrix(s$data[, mods, drop = FALSE])
    keep <- complete.cases(X)
    if (!all(keep)) rows <- which(keep)
    yi <- yi[keep]; vi <- vi[keep]; X <- X[keep, , drop = FALSE]
  }
  name <- paste(c(set, method, test, if (level != 95) paste0("level", level), mods), collapse = "-")
  case <- list(name = name, dataset = s$dataset, method = method, test = test, level = level,
               mods = if (is.null(mods)) list() else as.list(mods), rows = rows, yi = yi, vi = vi)
  fit_with <- function(control) {
    if (is.null(X)) rma(yi, vi, method = method, test = test, level = level, control = control)
    else rma(yi, vi, mods = X, method = method, test = test, level = level, control = control)
  }
  res <- try_or_error(fit_with(list()))
  case$result <- if (failed(res)) list(error = res$message) else result_of(res)
  if (method %in% c("ML", "REML", "EB", "PM")) {
    rt <- try_or_error(fit_with(tight))
    case$result_tight <- if (failed(rt)) list(error = rt$message) else list(tau2 = rt$tau2, beta = num(rt$beta))
  }
  case
}

rma_cases <- list()
for (set in names(yv_sets)) for (method in methods) {
  rma_cases[[length(rma_cases) + 1]] <- rma_case(set, method)
}
for (method in c("DL", "REML", "PM")) {
  rma_cases[[length(rma_cases) + 1]] <- rma_case("bcg", method, test = "knha")
  rma_cases[[length(rma_cases) + 1]] <- rma_case("normand1999", method, test = "knha", level = 90)
  rma_cases[[length(rma_cases) + 1]] <- rma_case("bcg", method, mods = c("ablat"))
  rma_cases[[length(rma_cases) + 1]] <- rma_case("bcg", method, mods = c("ablat", "year"))
  rma_cases[[length(rma_cases) + 1]] <- rma_case("bcg", method, test = "knha", mods = c("ablat", "year"))
  rma_cases[[length(rma_cases) + 1]] <- rma_case("raudenbush1985", method, mods = c("weeks"))
  rma_cases[[length(rma_cases) + 1]] <- rma_case("bangertdrowns2004", method, mods = c("length"))
}
for (method in c("ML", "EB", "SJ", "HE", "FE")) {
  rma_cases[[length(rma_cases) + 1]] <- rma_case("bcg", method, mods = c("ablat", "year"))
}
write_cases(rma_cases, "rma.json")

# ---------------------------------------------------------------------------------------- subgroup
subgroup_case <- function(set, column, method, test = "z") {
  s <- yv_sets[[set]]()
  groups <- as.character(s$data[[column]])
  keep <- !is.na(groups) & groups != ""
  yi <- s$yi[keep]; vi <- s$vi[keep]; groups <- groups[keep]
  levels <- unique(groups)
  per_group <- list()
  for (lev in levels) {
    res <- try_or_error(rma(yi, vi, method = method, test = test, subset = groups == lev))
    per_group[[lev]] <- if (failed(res)) list(error = res$message) else result_of(res, with_confint = FALSE)
  }
  mod <- try_or_error(rma(yi, vi, mods = ~ factor(groups), method = method, test = test))
  moderator_test <- if (failed(mod)) list(error = mod$message) else list(QM = mod$QM, QMp = mod$QMp, tau2 = mod$tau2)
  # RevMan: each subgroup pooled with its own tau^2 (z test), then a common-effect Q across the subgroup estimates
  sub <- lapply(levels, function(lev) try_or_error(rma(yi, vi, method = method, subset = groups == lev)))
  revman <- NULL
  if (!any(vapply(sub, failed, logical(1))) && length(levels) > 1) {
    est <- vapply(sub, function(r) as.numeric(r$beta), numeric(1))
    se <- vapply(sub, function(r) r$se, numeric(1))
    q <- rma(est, sei = se, method = "FE")
    revman <- list(Q = q$QE, df = length(levels) - 1, pval = q$QEp)
  }
  list(name = paste(set, column, method, test, sep = "-"), dataset = s$dataset, method = method, test = test,
       level = 95, yi = yi, vi = vi, groups = groups, per_group = per_group, moderator_test = moderator_test,
       revman_test = revman)
}
subgroup_cases <- list()
for (method in c("FE", "DL", "REML", "PM")) {
  subgroup_cases[[length(subgroup_cases) + 1]] <- subgroup_case("bcg", "alloc", method)
  subgroup_cases[[length(subgroup_cases) + 1]] <- subgroup_case("molloy2014", "design", method)
  subgroup_cases[[length(subgroup_cases) + 1]] <- subgroup_case("raudenbush1985", "tester", method)
}
subgroup_cases[[length(subgroup_cases) + 1]] <- subgroup_case("bcg", "alloc", "REML", test = "knha")
write_cases(subgroup_cases, "subgroup.json")

# ------------------------------------------------------------------------------------------ regtest
small_study_sets <- c("bcg", "normand1999", "raudenbush1985", "bangertdrowns2004", "molloy2014", "hine1989",
                      "viechtbauer2005_ex2")
regtest_cases <- list()
trimfill_cases <- list()
loo_cases <- list()
for (set in small_study_sets) for (method in c("FE", "DL", "REML", "PM")) for (test in c("z", "knha")) {
  if (method == "FE" && test == "knha") next
  s <- yv_sets[[set]]()
  base <- list(name = paste(set, method, test, sep = "-"), dataset = s$dataset, method = method, test = test,
               level = 95, yi = s$yi, vi = s$vi)
  res <- rma(s$yi, s$vi, method = method, test = test)
  rt <- try_or_error(regtest(res))
  regtest_cases[[length(regtest_cases) + 1]] <- c(base, if (failed(rt)) list(error = rt$message) else
    list(result = list(zval = rt$zval, pval = rt$pval, est = num(rt$est), ci_lb = num(rt$ci.lb),
                       ci_ub = num(rt$ci.ub))))
  if (test == "z") {
    tf <- try_or_error(trimfill(res))
    trimfill_cases[[length(trimfill_cases) + 1]] <- c(base, if (failed(tf)) list(error = tf$message) else
      list(result = list(k0 = tf$k0, side = tf$side, se_k0 = tf$se.k0, beta = num(tf$beta), se = num(tf$se),
                         ci_lb = num(tf$ci.lb), ci_ub = num(tf$ci.ub), tau2 = tf$tau2, yi_aug = num(tf$yi))))
  }
  l1 <- leave1out(res)
  loo_cases[[length(loo_cases) + 1]] <- c(base, list(result = list(
    estimate = num(l1$estimate), se = num(l1$se), zval = num(if (is.null(l1$zval)) l1$tval else l1$zval), pval = num(l1$pval), ci_lb = num(l1$ci.lb),
    ci_ub = num(l1$ci.ub), Q = num(l1$Q), Qp = num(l1$Qp), tau2 = num(l1$tau2), I2 = num(l1$I2), H2 = num(l1$H2))))
}
write_cases(regtest_cases, "regtest.json")
write_cases(trimfill_cases, "trimfill.json")
write_cases(loo_cases, "leave1out.json")

# -------------------------------------------------------------------------------------- convergence
# Data sets on which metafor's default algorithm does not give the optimum: either it stops with an
# error (Fisher scoring does not converge) or it stops at a local maximum of the likelihood. The
# optimum is found by maximising the profile (restricted) likelihood over a fine grid, then optimize().
profile_ll <- function(yi, vi, method) function(t) as.numeric(logLik(rma(yi, vi, tau2 = t, method = method)))
global_optimum <- function(yi, vi, method) {
  f <- profile_ll(yi, vi, method)
  grid <- c(0, exp(seq(log(1e-6), log(100), length.out = 2000)))
  ll <- vapply(grid, f, numeric(1))
  i <- which.max(ll)
  lo <- grid[max(1, i - 1)]; hi <- grid[min(length(grid), i + 1)]
  opt <- optimize(f, c(lo, hi), maximum = TRUE, tol = 1e-14)
  t <- if (f(0) >= opt$objective) 0 else opt$maximum
  list(tau2 = t, beta = as.numeric(rma(yi, vi, tau2 = t, method = method)$beta))
}

convergence_cases <- list()
set.seed(1)
found <- 0
for (i in 1:20000) {
  if (found >= 2) break
  k <- sample(3:20, 1)
  yi <- round(rnorm(k, 0, 2), 2)
  vi <- round(10^runif(k, -3, 1), 4) + 1e-4
  res <- try_or_error(rma(yi, vi, method = "REML"))
  if (failed(res) && grepl("converge", res$message)) {
    opt <- global_optimum(yi, vi, "REML")
    found <- found + 1
    convergence_cases[[length(convergence_cases) + 1]] <- list(
      name = paste0("random-", i), kind = "error", method = "REML", yi = yi, vi = vi,
      default_error = res$message, tau2_optimum = opt$tau2, beta = opt$beta)
  }
}
# metafor's default returns a wrong tau^2 without an error: a lower local maximum (REML, bimodal likelihood),
# and a stop after steps below the threshold far from the maximum (ML, one very precise study).
local_cases <- list(
  list(name = "bimodal-reml", method = "REML", yi = c(rep(0, 16), 1, 1, 2, 2, 3, 3, 0),
       vi = c(rep(1, 14), 2, 0.015625, 1, 2, 1, 1, 1, 1, 0.015625)),
  list(name = "early-stop-ml", method = "ML", yi = c(rep(0, 16), 1.5, 0, 1, 1, 2, 2, 3),
       vi = c(rep(1, 16), 1.953125e-03, 2, 1, 1, 1, 1, 1))
)
for (lc in local_cases) {
  default <- rma(lc$yi, lc$vi, method = lc$method)
  opt <- global_optimum(lc$yi, lc$vi, lc$method)
  convergence_cases[[length(convergence_cases) + 1]] <- list(
    name = lc$name, kind = "local", method = lc$method, yi = lc$yi, vi = lc$vi,
    default_tau2 = default$tau2, default_ll = as.numeric(logLik(default)),
    optimum_ll = profile_ll(lc$yi, lc$vi, lc$method)(opt$tau2), tau2_optimum = opt$tau2, beta = opt$beta)
}
write_cases(convergence_cases, "convergence.json")
cat("fixtures written to", out_dir, "\n")
