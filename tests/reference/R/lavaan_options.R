# Reference values for model options (issue 13): listwise ML, measurement invariance with MLR (listwise),
# with FIML (missing = "ml"), and single-group FIML + MLR, on psych::bfi and on the bundled example.
# Run from the repository root:  Rscript tests/reference/R/lavaan_options.R
# Writes tests/reference/lavaan_options.json.  Data: tests/reference/data/bfi.csv (psych::bfi, 2800 rows,
# the 25 items + gender + education, written by lavaan_part7.R) and tests/reference/data/example.csv.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
cat(R.version.string, "lavaan", as.character(packageVersion("lavaan")), "\n")
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
# Tight tolerance, then a guard: the tight solution must not be worse than lavaan's default-tolerance
# one.  optim.attempts = 1: when nlminb stops with "false convergence" at the optimum (it cannot improve at
# machine precision), lavaan 0.6-14 otherwise retries from other start values and may keep a WORSE local
# solution (seen on bfi: fx 1.043 instead of 0.855).
fitcfa <- function(...) {
  f <- cfa(..., control = CTRL, optim.force.converged = TRUE, optim.attempts = 1L)
  d <- cfa(...)
  stopifnot(lavInspect(d, "converged"), f@optim$fx <= d@optim$fx + 1e-12 * abs(d@optim$fx),
            abs(coef(f) - coef(d)) < 1e-3)
  f
}

bfi <- read.csv("tests/reference/data/bfi.csv")
# the bundled example (example.csv) has only 18 women for 25 items: each group's covariance matrix is
# singular and lavaan stops, so the SERVQUAL invariance case uses the 500-respondent simulation sim25.csv
# (same layout: E1..E25, P1..P25, gender)
ex <- read.csv("tests/reference/data/sim25.csv")
stopifnot(min(table(read.csv("tests/reference/data/example.csv")$gender)) < 25)
bfi_model <- paste(sapply(c("A", "C", "E", "N", "O"), function(f) paste(f, "=~", paste0(f, 1:5, collapse = " + "))),
                   collapse = "\n")
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
ex_model <- paste(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))),
                  collapse = "\n")

ML_KEYS <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "rmsea", "srmr",
             "logl", "aic", "bic")
MLR_KEYS <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
              "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
              "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "logl")
fm <- function(fit, keys) as.list(fitMeasures(fit, keys))
nobs_of <- function(fit) as.list(setNames(lavInspect(fit, "nobs"), lavInspect(fit, "group.label")))
STEPS <- list(configural = character(0), metric = "loadings", scalar = c("loadings", "intercepts"),
              strict = c("loadings", "intercepts", "residuals"))

invariance <- function(model, data, group, keys, lrt_method, ...) {
  fits <- list(); steps <- list()
  for (s in names(STEPS)) {
    fits[[s]] <- if (length(STEPS[[s]])) fitcfa(model, data = data, group = group, group.equal = STEPS[[s]], ...)
                 else fitcfa(model, data = data, group = group, ...)
    steps[[s]] <- list(group_equal = STEPS[[s]], nobs = nobs_of(fits[[s]]), fit = fm(fits[[s]], keys))
  }
  lrt <- list()
  for (i in 2:length(STEPS)) {
    a <- names(STEPS)[i - 1]; b <- names(STEPS)[i]
    t <- lavTestLRT(fits[[a]], fits[[b]], method = lrt_method)
    lrt[[paste0(b, "_vs_", a)]] <- list(method = if (lrt_method == "default") "standard chi-square difference (anova)" else lrt_method, chisq_diff = t[["Chisq diff"]][2],
                                         df_diff = t[["Df diff"]][2], pvalue = t[["Pr(>Chisq)"]][2])
  }
  list(group = group, group_labels = lavInspect(fits$configural, "group.label"), steps = steps, lrt = lrt)
}

out <- list(generator = "tests/reference/R/lavaan_options.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")), rel_tol = CTRL$rel.tol,
            note = paste("fit keys are lavaan fitMeasures names; logl is the loglikelihood; groups are ordered as",
                         "lavaan orders them (first appearance in the data), see group_labels"))

t0 <- Sys.time()
f <- fitcfa(bfi_model, data = bfi)
out$bfi <- list(data = "tests/reference/data/bfi.csv", model = bfi_model, n_rows = nrow(bfi))
out$bfi$listwise_ml <- list(call = "cfa(model, data = bfi)  # lavaan default missing = 'listwise', estimator = 'ML'",
                            nobs = lavInspect(f, "nobs"), fit = fm(f, ML_KEYS))
out$bfi$invariance_mlr <- c(list(call = "cfa(model, data = bfi, group = 'gender', group.equal = ..., estimator = 'MLR')",
                                 estimator = "MLR", missing = "listwise"),
  invariance(bfi_model, bfi, "gender", MLR_KEYS, "satorra.bentler.2001", estimator = "MLR"))
cat("bfi listwise done", format(Sys.time() - t0), "\n")
out$bfi$invariance_fiml <- c(list(call = "cfa(model, data = bfi, group = 'gender', group.equal = ..., missing = 'ml')",
                                  estimator = "ML", missing = "ml", rows = "all 2800 rows"),
  invariance(bfi_model, bfi, "gender", ML_KEYS, "default", missing = "ml"))
cat("bfi fiml done", format(Sys.time() - t0), "\n")
f <- fitcfa(bfi_model, data = bfi, missing = "ml", estimator = "MLR")
out$bfi$fiml_mlr <- list(call = "cfa(model, data = bfi, missing = 'ml', estimator = 'MLR')", estimator = "MLR",
                         missing = "ml", nobs = lavInspect(f, "nobs"), fit = fm(f, MLR_KEYS))

out$servqual25 <- list(data = "tests/reference/data/sim25.csv", model = ex_model, n_rows = nrow(ex),
  note = "example.csv has 18 women for 25 items (singular group covariance), so sim25.csv is used")
out$servqual25$invariance_mlr <- c(list(call = "cfa(model, data = sim25, group = 'gender', group.equal = ..., estimator = 'MLR')",
                                     estimator = "MLR", missing = "listwise"),
  invariance(ex_model, ex, "gender", MLR_KEYS, "satorra.bentler.2001", estimator = "MLR"))
cat("all done", format(Sys.time() - t0), "\n")
write_json(out, "tests/reference/lavaan_options.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/reference/lavaan_options.json\n")
