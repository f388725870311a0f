# Reference values for modification indices and residuals of WLSMV fits (ordered items, delta
# parameterization), lavaan 0.6-14: modindices() (score tests with the expected information
# Delta' W Delta, W the diagonal weights) and residuals(fit, type) for "raw", "normalized" and
# "standardized" (thresholds and polychoric correlations; the standardized ones through lavaan's
# lav_residuals_acov: Q = I - f_g Delta A0^-1 Delta' W, acov(residual) = Q NACOV/N Q').
# Run from the repository root:  Rscript tests/reference/R/lavaan_wlsmv_diag.R
# Writes tests/reference/lavaan_wlsmv_diag.json.
# Estimates: nlminb, then Newton-polished (polish.R).
# Data: Holzinger & Swineford cut into three categories (tests/reference/data/hs_ordinal.csv, public data,
# written by lavaan_ordinal_mg.R), one group, two schools, and two schools with equal thresholds and
# loadings (threshold residuals not zero); the simulated three-group file with an
# omitted cross-loading (tests/reference/data/ordinal_mg.csv), one group.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
cat(R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")
source("tests/reference/R/polish.R")
# nlminb as tight as it still converges (as lavaan_ordinal_mg.R), then Newton-polished on lavaan's DWLS
# objective (polish.R): at rel.tol 1e-10..1e-11 the scores of small modification indices still move in
# the 4th digit.  The polished fit must stay within 1e-4 of nlminb's.
fitcfa <- function(model, ...) {
  for (tol in c(1e-14, 1e-13, 1e-12, 1e-11, 1e-10)) {
    f <- suppressWarnings(cfa(model, ..., control = list(rel.tol = tol, iter.max = 20000, eval.max = 40000)))
    if (lavInspect(f, "converged")) break
  }
  stopifnot(lavInspect(f, "converged"))
  p <- polish(f, function(pt) cfa(pt, ..., optim.method = "none", optim.force.converged = TRUE))
  g <- gradient_norm(p)
  cat(sprintf("  rel.tol %g, polished: max|gradient| %.1e (nlminb's %.1e)\n", tol, g, gradient_norm(f)))
  stopifnot(g < 1e-10, abs(coef(p) - coef(f)) < 1e-4)
  attr(p, "rel.tol") <- tol
  p
}
mat <- function(x) if (is.null(x)) NULL else unclass(x)
resid <- function(fit) {
  one <- function(type) {
    r <- residuals(fit, type = type)
    if (!is.null(r$cov)) r <- list(r)  # one group
    lapply(r, function(x) list(cov = mat(x$cov), th = as.numeric(x$th), th_names = names(x$th)))
  }
  list(raw = one("raw"), normalized = one("normalized"), standardized = one("standardized"))
}
mi <- function(fit) {
  m <- modindices(fit, sort. = FALSE, minimum.value = 0)
  cols <- intersect(c("lhs", "op", "rhs", "group", "mi", "epc", "sepc.all"), names(m))
  as.data.frame(m)[, cols]
}
pe <- function(fit) { p <- parameterEstimates(fit, remove.nonfree = TRUE); p[, intersect(c("lhs", "op", "rhs", "group", "est", "se"), names(p))] }
case <- function(call, fit) {
  list(call = call, rel_tol = attr(fit, "rel.tol"), group_labels = lavInspect(fit, "group.label"),
       nobs = unname(unlist(lavInspect(fit, "nobs"))), chisq = fitMeasures(fit, "chisq"),
       parameters = pe(fit), modindices = mi(fit), residuals = resid(fit))
}
hso <- read.csv("tests/reference/data/hs_ordinal.csv")
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
sim <- read.csv("tests/reference/data/ordinal_mg.csv")
sim_model <- "f1 =~ y1 + y2 + y3 + y4\nf2 =~ y5 + y6 + y7 + y8"
out <- list(generator = "tests/reference/R/lavaan_wlsmv_diag.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")), hs_model = hs_model, sim_model = sim_model,
            note = "residual matrices are lavaan's residuals(fit, type)$cov (NA written as null), th its $th")
out$hs <- case("cfa(hs_model, hs_ordinal, ordered = TRUE)",
               fitcfa(hs_model, data = hso[, -1], ordered = TRUE))
out$hs_mg <- case("cfa(hs_model, hs_ordinal, ordered = TRUE, group = 'school')",
                  fitcfa(hs_model, data = hso, ordered = TRUE, group = "school"))
# equal thresholds and loadings across schools: threshold residuals that are not zero
out$hs_mg_metric <- case("cfa(hs_model, hs_ordinal, ordered = TRUE, group = 'school', group.equal = c('thresholds', 'loadings'))",
                         fitcfa(hs_model, data = hso, ordered = TRUE, group = "school",
                                group.equal = c("thresholds", "loadings")))
out$sim <- case("cfa(sim_model, ordinal_mg[, y1..y8], ordered = TRUE)",
                fitcfa(sim_model, data = sim[, paste0("y", 1:8)], ordered = TRUE))
write_json(out, "tests/reference/lavaan_wlsmv_diag.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/reference/lavaan_wlsmv_diag.json\n")
