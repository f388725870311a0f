# Reference values for validity() with SEMOptions(missing = "fiml") and for measurement models with
# missing answers: lavaan / semTools on the simulated 25-item survey with 1.5 % of the P answers deleted
# (tests/reference/data/sim25_missing.csv, made by tests/test_sem_options.py's docstring recipe).
# Run from the repository root:  Rscript tests/reference/R/validity_options.R
suppressPackageStartupMessages({ library(lavaan); library(semTools); library(jsonlite) })
d <- read.csv("tests/reference/data/sim25_missing.csv")
dims <- c("tangibles", "reliability", "responsiveness", "assurance", "empathy")
model <- paste(sapply(1:5, function(k) paste0(dims[k], " =~ ", paste0("P", (5 * k - 4):(5 * k), collapse = " + "))),
               collapse = "\n")
# rel.tol 1e-10: tighter values make nlminb report false convergence on these data (the chi-square
# already agrees with servmodels to ~3e-11 relative at 1e-10)
ctrl <- list(rel.tol = 1e-10, eval.max = 20000, iter.max = 20000)
fiml <- cfa(model, data = d, missing = "ml", control = ctrl)
lw <- cfa(model, data = d, control = ctrl)  # lavaan's default: listwise deletion
fm <- function(f) as.list(fitMeasures(f, c("npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic")))
out <- list(
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  semTools = as.character(packageVersion("semTools"))),
  model = model,
  fiml = list(fit = fm(fiml), omega = as.list(compRelSEM(fiml)), ave = as.list(AVE(fiml)),
              htmt = unclass(htmt(model, data = d, missing = "ml"))),
  listwise = list(nobs = lavInspect(lw, "nobs"), ntotal = nrow(d), fit = fm(lw), omega = as.list(compRelSEM(lw)),
                  ave = as.list(AVE(lw)), htmt = unclass(htmt(model, data = d[complete.cases(d[, paste0("P", 1:25)]), ])))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/validity_options.json")
