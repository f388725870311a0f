# Reference values for robust (MLR), missing-data (FIML) and ordinal (WLSMV) estimation, lavaan 0.6-14.
# Run from the repository root:  Rscript tests/reference/R/lavaan_robust.R
suppressPackageStartupMessages({ library(lavaan); library(jsonlite); library(psych) })
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
fitcfa <- function(...) cfa(..., control = CTRL, optim.force.converged = TRUE)

hs <- read.csv("tests/reference/data/holzinger_swineford.csv")
hsm <- read.csv("tests/reference/data/holzinger_swineford_missing.csv")
sim <- read.csv("tests/reference/data/sim25.csv")
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

KEYS <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
          "baseline.chisq", "baseline.df", "baseline.chisq.scaled", "baseline.chisq.scaling.factor",
          "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
          "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.scaled", "rmsea.robust", "srmr", "logl", "aic", "bic")
fm <- function(fit) { v <- fitMeasures(fit); as.list(v[intersect(KEYS, names(v))]) }
pe <- function(fit) parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE)[,
  c("lhs", "op", "rhs", "est", "se", "std.all")]

out <- list(generator = "tests/reference/R/lavaan_robust.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")))
f <- fitcfa(hs_model, data = hs, estimator = "MLR")
out$hs_mlr <- list(model = hs_model, fit = fm(f), parameters = pe(f))
f <- fitcfa(hs_model, data = hsm, missing = "fiml")
out$hs_fiml <- list(model = hs_model, fit = fm(f), parameters = pe(f), n = lavInspect(f, "ntotal"))
f <- fitcfa(hs_model, data = hsm, missing = "fiml", estimator = "MLR")
out$hs_fiml_mlr <- list(model = hs_model, fit = fm(f), parameters = pe(f))

dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
sq_model <- paste(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))), collapse = "\n")
items <- paste0("P", 1:25)
f <- cfa(sq_model, data = sim, ordered = items, estimator = "WLSMV")
out$sim_wlsmv <- list(model = sq_model, fit = fm(f), parameters = pe(f))
pc <- lavCor(sim[, items], ordered = items, output = "fit")
out$polychoric <- list(items = items, cor = unclass(lavInspect(pc, "sampstat")$cov),
                       thresholds = unname(lavInspect(pc, "sampstat")$th))
# ordinal reliability (Zumbo, Gadermann & Zeisser 2007) per dimension, next to the Pearson-based values:
# alpha from psych::alpha on the polychoric (lavCor) and Pearson matrices; omega = (sum lambda)^2 /
# ((sum lambda)^2 + sum theta) from one-factor lavaan fits (WLSMV standardized / ML unstandardized)
omega_of <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  lam <- pe$std.all[pe$op == "=~"]; th <- 1 - lam^2
  if (!fit@Options$categorical) { lam <- pe$est[pe$op == "=~"] * sqrt(pe$est[pe$op == "~~" & pe$lhs == "f" & pe$rhs == "f"]);
    th <- pe$est[pe$op == "~~" & pe$lhs == pe$rhs & pe$lhs != "f"] }
  sum(lam)^2 / (sum(lam)^2 + sum(th))
}
rel <- list()
for (d in names(dims)) {
  it <- paste0("P", dims[[d]])
  pcm <- lavCor(sim[, it], ordered = it)
  m1 <- paste("f =~", paste(it, collapse = " + "))
  rel[[d]] <- list(
    alpha_ordinal = suppressWarnings(psych::alpha(unclass(pcm), warnings = FALSE)$total$raw_alpha),
    alpha = suppressWarnings(psych::alpha(sim[, it], warnings = FALSE)$total$raw_alpha),
    omega_ordinal = omega_of(cfa(m1, data = sim, ordered = it, estimator = "WLSMV")),
    omega = omega_of(fitcfa(m1, data = sim)))
}
out$ordinal_reliability <- rel
write_json(out, "tests/reference/lavaan_robust.json", digits = NA, auto_unbox = TRUE, matrix = "rowmajor")
cat("wrote tests/reference/lavaan_robust.json\n")
