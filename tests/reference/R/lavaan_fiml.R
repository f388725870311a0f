# Reference values for FIML (lavaan missing = "ml") on psych::bfi, a misfitting five-factor model:
# fit measures including lavaan's robust CFI/TLI/RMSEA (the FIML-corrected statistic of Zhang & Savalei,
# lav_fit_fiml_corrected: version V6 with ML, V3 with MLR), estimates and standard errors, modification
# indices and residuals; one group and two groups (gender), ML and MLR, all 2800 rows and the first 400.
# Run from the repository root:  Rscript tests/reference/R/lavaan_fiml.R
# Writes tests/reference/lavaan_fiml.json.  Data: tests/reference/data/bfi.csv (written by lavaan_part7.R).
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
cat(R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")
# Tight tolerances: the optimiser (nlminb rel.tol) and the EM algorithm of the saturated model (lavaan's
# default em.h1.tol = 1e-5 stops EM where the robust indices, which depend on the EM estimates, still
# move in the 6th digit).
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
EM <- list(em.h1.tol = 1e-12, em.h1.iter.max = 100000L)
source("tests/reference/R/polish.R")
# nlminb stops a little short even at rel.tol = 1e-13 on this flat likelihood (max |gradient| ~2e-6,
# estimates ~1e-5 from the optimum, log-likelihood 1.5e-7 below it), too far for modification indices
# and residuals to be compared at 1e-4.  So the tight solution is Newton-polished on lavaan's own FIML
# objective (polish.R; lavaan's FIML gradient is not group-weighted: group.weight = FALSE, as
# lavTech(fit, "gradient")).  The polished solution must not be worse than the default-tolerance one
# (compared by log-likelihood, since lavaan's FIML fx includes the h1 log-likelihood, which differs with
# the EM tolerance) and must stay within 1e-3 of it.
fitcfa <- function(model, ...) {
  f <- cfa(model, ..., control = CTRL, optim.force.converged = TRUE, optim.attempts = 1L,
           em.h1.tol = EM$em.h1.tol, em.h1.iter.max = EM$em.h1.iter.max)
  d <- cfa(model, ...)
  f <- polish(f, function(pt) cfa(pt, ..., optim.method = "none", optim.force.converged = TRUE,
                                  em.h1.tol = EM$em.h1.tol, em.h1.iter.max = EM$em.h1.iter.max),
              group.weight = FALSE)
  g <- gradient_norm(f, group.weight = FALSE)
  lf <- fitMeasures(f, "logl"); ld <- fitMeasures(d, "logl")
  cat(sprintf("  polished: max|gradient| %.1e, logl - default logl %.2e\n", g, lf - ld))
  stopifnot(g < 1e-10, lavInspect(d, "converged"), lf >= ld - 1e-10 * abs(ld), abs(coef(f) - coef(d)) < 1e-3)
  f
}

bfi <- read.csv("tests/reference/data/bfi.csv")
model <- paste(sapply(c("A", "C", "E", "N", "O"), function(f) paste(f, "=~", paste0(f, 1:5, collapse = " + "))),
               collapse = "\n")
KEYS <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea",
          "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl", "unrestricted.logl", "aic", "bic",
          "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
          "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "rmsea.scaled",
          "cfi.robust", "tli.robust", "rmsea.robust")
fm <- function(fit) { v <- fitMeasures(fit); as.list(v[intersect(KEYS, names(v))]) }
pe <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE)
  keep <- intersect(c("lhs", "op", "rhs", "group", "est", "se", "std.all"), names(p))
  p[, keep]
}
resid <- function(fit) {
  one <- function(type) {
    r <- residuals(fit, type = type)
    if (!is.null(r$cov)) r <- list(r)  # one group
    lapply(r, function(x) list(cov = unclass(x$cov), mean = as.numeric(x$mean)))
  }
  list(raw = one("raw"), normalized = one("normalized"), standardized = one("standardized"))
}
mi <- function(fit) {
  m <- modindices(fit, sort. = FALSE, minimum.value = 0)
  cols <- intersect(c("lhs", "op", "rhs", "group", "mi", "epc", "sepc.all"), names(m))
  as.data.frame(m)[, cols]
}
case <- function(call, fit, extra = TRUE) {
  out <- list(call = call, estimator = lavInspect(fit, "options")$estimator,
              information = lavInspect(fit, "options")$information[1],
              nobs = as.list(lavInspect(fit, "nobs")), group_labels = lavInspect(fit, "group.label"),
              fit = fm(fit), parameters = pe(fit))
  if (extra) {
    out$residuals <- resid(fit)
    out$modindices <- mi(fit)
  }
  out
}

out <- list(generator = "tests/reference/R/lavaan_fiml.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")), rel_tol = CTRL$rel.tol,
            em_h1_tol = EM$em.h1.tol, data = "tests/reference/data/bfi.csv", model = model,
            note = paste("fit keys are lavaan fitMeasures names; groups in lavaan's order (first appearance);",
                         "residual matrices are lavaan's residuals(fit, type)$cov, NA written as null"))
t0 <- Sys.time()
out$ml <- case("cfa(model, bfi, missing = 'ml')", fitcfa(model, data = bfi, missing = "ml"))
cat("ml", format(Sys.time() - t0), "\n")
out$mlr <- case("cfa(model, bfi, missing = 'ml', estimator = 'MLR')",
                fitcfa(model, data = bfi, missing = "ml", estimator = "MLR"))
cat("mlr", format(Sys.time() - t0), "\n")
out$mg_ml <- case("cfa(model, bfi, missing = 'ml', group = 'gender')",
                  fitcfa(model, data = bfi, missing = "ml", group = "gender"))
out$mg_mlr <- case("cfa(model, bfi, missing = 'ml', estimator = 'MLR', group = 'gender')",
                   fitcfa(model, data = bfi, missing = "ml", estimator = "MLR", group = "gender"), extra = FALSE)
cat("mg", format(Sys.time() - t0), "\n")
b400 <- bfi[1:400, ]
out$mg400_ml <- case("cfa(model, bfi[1:400, ], missing = 'ml', group = 'gender')",
                     fitcfa(model, data = b400, missing = "ml", group = "gender"), extra = FALSE)
out$mg400_mlr <- case("cfa(model, bfi[1:400, ], missing = 'ml', estimator = 'MLR', group = 'gender')",
                      fitcfa(model, data = b400, missing = "ml", estimator = "MLR", group = "gender"), extra = FALSE)
# scalar invariance: free latent means in the second group (second derivatives through alpha)
out$mg400_scalar_mlr <- case(paste("cfa(model, bfi[1:400, ], missing = 'ml', estimator = 'MLR', group = 'gender',",
                                   "group.equal = c('loadings', 'intercepts'))"),
                             fitcfa(model, data = b400, missing = "ml", estimator = "MLR", group = "gender",
                                    group.equal = c("loadings", "intercepts")), extra = FALSE)
cat("all done", format(Sys.time() - t0), "\n")
write_json(out, "tests/reference/lavaan_fiml.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote tests/reference/lavaan_fiml.json\n")
