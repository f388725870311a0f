# Reference values for the residuals of complete-data MLR fits (lavaan 0.6-14 residuals(fit, type) with
# estimator = "MLR": the sample moments' acov is the sandwich A1^-1 B1 A1^-1 / n, h1.acov = "unstructured",
# the projection uses the observed h1 information).  Holzinger & Swineford (public data): one group, one
# group with a mean structure, two schools.  Estimates Newton-polished on lavaan's objective (polish.R).
# Run from the repository root:  Rscript tests/reference/R/lavaan_mlr_residuals.R
# Writes tests/reference/lavaan_mlr_residuals.json.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
source("tests/reference/R/polish.R")
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
fitcfa <- function(model, ...) {
  f <- cfa(model, ..., estimator = "MLR", control = CTRL, optim.force.converged = TRUE)
  p <- polish(f, function(pt) cfa(pt, ..., estimator = "MLR", optim.method = "none", optim.force.converged = TRUE))
  stopifnot(gradient_norm(p) < 1e-10, abs(coef(p) - coef(f)) < 1e-4)
  p
}
resid <- function(fit) {
  one <- function(type) {
    r <- residuals(fit, type = type)
    if (!is.null(r$cov)) r <- list(r)
    lapply(r, function(x) list(cov = unclass(x$cov), mean = if (is.null(x$mean)) NULL else as.numeric(x$mean)))
  }
  list(raw = one("raw"), normalized = one("normalized"), standardized = one("standardized"))
}
hs <- read.csv("tests/reference/data/holzinger_swineford.csv")
model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
case <- function(fit) list(group_labels = lavInspect(fit, "group.label"), chisq = fitMeasures(fit, "chisq"),
                           residuals = resid(fit))
out <- list(generator = "tests/reference/R/lavaan_mlr_residuals.R", lavaan_version = as.character(packageVersion("lavaan")),
            model = model,
            hs = case(fitcfa(model, data = hs)),
            hs_means = case(fitcfa(model, data = hs, meanstructure = TRUE)),
            hs_mg = case(fitcfa(model, data = hs, group = "school")))
write_json(out, "tests/reference/lavaan_mlr_residuals.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/reference/lavaan_mlr_residuals.json\n")
