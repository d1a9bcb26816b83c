# Reference values from R metafor's rma.mh() and rma.peto() for tests/test_mh_peto_parity.py.
#
# Run from the repository root:  Rscript tests/r/make_fixtures_mh_peto.R
# Needs R with metafor and jsonlite. Writes tests/fixtures/metafor/mh_peto.json (and the edge case
# tests/data/edge/double_zero.csv); the tests read those and need no R.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_file <- "tests/fixtures/metafor/mh_peto.json"
ref <- function(name) {
  path <- file.path("tests/data/reference", paste0(name, ".csv"))
  if (!file.exists(path)) path <- file.path("tests/data/edge", paste0(name, ".csv"))
  read.csv(path, check.names = FALSE, stringsAsFactors = FALSE)
}
num <- function(x) if (is.null(x)) NULL else unname(as.numeric(x))

# a study with no events in either group and one with a zero cell: both rules matter here
write.csv(data.frame(ai = c(0, 2, 0, 7, 11), n1i = c(30, 45, 20, 60, 80), ci = c(0, 0, 3, 9, 15),
                     n2i = c(28, 44, 22, 61, 79)),
          "tests/data/edge/double_zero.csv", row.names = FALSE)

# data set, its 2x2 columns (metafor's names -> the file's)
sets <- list(
  list("bcg", c(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg")),
  list("hine1989", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("egger2001", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("nielweise2007", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("dersimonian2007_clasp", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("collins1985b", c(ai = "pre.xti", n1i = "pre.nti", ci = "pre.xci", n2i = "pre.nci")),
  list("zero_cells", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")),
  list("double_zero", c(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i"))
)

summary_of <- function(res) list(
  k = res$k, k_yi = res$k.yi, estimate = num(res$beta), se = num(res$se), ci_low = num(res$ci.lb),
  ci_high = num(res$ci.ub), zval = num(res$zval), pval = num(res$pval), q = num(res$QE),
  q_pval = num(res$QEp), i2 = num(res$I2), h2 = num(res$H2))

cases <- list()
for (s in sets) {
  d <- ref(s[[1]])
  cols <- lapply(s[[2]], function(col) d[[col]])
  for (measure in c("OR", "RR", "RD")) {
    res <- do.call(rma.mh, c(cols, list(measure = measure)))
    cases[[length(cases) + 1]] <- c(list(data = s[[1]], columns = as.list(s[[2]]), fn = "rma.mh",
                                         measure = measure), summary_of(res))
  }
  res <- do.call(rma.peto, cols)
  cases[[length(cases) + 1]] <- c(list(data = s[[1]], columns = as.list(s[[2]]), fn = "rma.peto",
                                       measure = "OR"), summary_of(res))
}

doc <- list(metafor = as.character(packageVersion("metafor")), R = R.version.string, cases = cases)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE), out_file)
