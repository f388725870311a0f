# Reference values for the CFA engine from lavaan (Rosseel).
# Run from the repository root:  Rscript tests/reference/R/lavaan_cfa.R
# Writes tests/reference/lavaan_cfa.json; the Python tests read that JSON only.
# Data are read from the committed CSVs so R and Python see identical numbers.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })

# lavaan's defaults stop nlminb at rel.tol 1e-10, which leaves estimates ~1e-5 from the
# optimum in flat directions; even rel.tol = 1e-13 stops short (nlminb then reports "false
# convergence" when it cannot improve at machine precision, hence optim.force.converged).  So
# the tight fit is Newton-polished on lavaan's own objective and gradient (polish.R) until
# max |gradient| < 1e-12, and every statistic is computed there: tests can then compare
# estimates, modification indices and residuals at 1e-6..1e-4.  (The default-tolerance
# chi-square is checked as well.)
source("tests/reference/R/polish.R")
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
fitcfa <- function(model, ...) {
  f <- cfa(model, ..., control = CTRL, optim.force.converged = TRUE)
  p <- polish(f, function(pt) cfa(pt, ..., optim.method = "none", optim.force.converged = TRUE))
  cat(sprintf("  polished: max|gradient| %.1e (nlminb's %.1e)\n", gradient_norm(p), gradient_norm(f)))
  stopifnot(gradient_norm(p) < 1e-10, abs(coef(p) - coef(f)) < 1e-4)
  p
}

hs <- read.csv("tests/reference/data/holzinger_swineford.csv")
sim <- read.csv("tests/reference/data/sim25.csv")

FIT_KEYS <- c("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "baseline.pvalue",
              "cfi", "tli", "nfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue",
              "srmr", "aic", "bic", "bic2", "logl", "unrestricted.logl")

pt <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE, remove.def = TRUE)
  keep <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.lv", "std.all")
  if ("group" %in% names(pe)) keep <- c(keep, "group")
  if ("label" %in% names(pe)) keep <- c(keep, "label")
  pe[, intersect(keep, names(pe))]
}

summarise <- function(fit, extra = TRUE) {
  out <- list(fit = as.list(fitMeasures(fit, FIT_KEYS)), parameters = pt(fit))
  if (extra) {
    out$implied_cov <- unclass(lavInspect(fit, "cov.ov"))
    out$r2 <- as.list(lavInspect(fit, "r2"))
    out$resid_raw <- unclass(residuals(fit, type = "raw")$cov)
    out$resid_normalized <- unclass(residuals(fit, type = "normalized")$cov)
    out$resid_standardized <- unclass(residuals(fit, type = "standardized")$cov)
    mi <- modindices(fit, sort. = FALSE, minimum.value = 0)
    out$modindices <- mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.all")]
    out$vcov <- unclass(vcov(fit))
  }
  out
}

hs_model <- "visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9"
out <- list(generator = "tests/reference/R/lavaan_cfa.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")), cases = list())

out$cases$hs <- c(list(model = hs_model), summarise(fitcfa(hs_model, data = hs)))
out$cases$hs_std_lv_wishart <- c(list(model = hs_model),
  summarise(fitcfa(hs_model, data = hs, std.lv = TRUE, likelihood = "wishart")))
out$cases$hs_meanstructure_labels <- c(
  list(model = "# equal loadings by a shared label, a fixed and a freed loading\nvisual =~ x1 + a*x2 + a*x3\ntextual =~ NA*x4 + x5 + 1*x6\ntextual ~~ 1*textual\nspeed =~ x7 + x8 + x9\nx7 ~~ x8"),
  summarise(fitcfa("# equal loadings by a shared label, a fixed and a freed loading\nvisual =~ x1 + a*x2 + a*x3\ntextual =~ NA*x4 + x5 + 1*x6\ntextual ~~ 1*textual\nspeed =~ x7 + x8 + x9\nx7 ~~ x8",
                data = hs, meanstructure = TRUE)))
second <- paste(hs_model, "\ng =~ visual + textual + speed")
out$cases$hs_second_order <- c(list(model = second), summarise(fitcfa(second, data = hs)))

# covariance-matrix input
S <- cov(hs[, paste0("x", 1:9)])
out$cases$hs_from_cov <- c(list(model = hs_model),
  summarise(fitcfa(hs_model, sample.cov = S, sample.nobs = nrow(hs)), extra = FALSE))

# invariance by school
inv <- list()
for (lev in list(list("configural", character(0)), list("metric", "loadings"),
                 list("scalar", c("loadings", "intercepts")),
                 list("strict", c("loadings", "intercepts", "residuals")))) {
  f <- if (length(lev[[2]])) fitcfa(hs_model, data = hs, group = "school", group.equal = lev[[2]]) else fitcfa(hs_model, data = hs, group = "school")
  inv[[lev[[1]]]] <- summarise(f, extra = FALSE)
}
out$cases$hs_invariance <- list(model = hs_model, group = "school", levels = inv)

# 25-item five-factor SERVQUAL model on simulated Likert data (perception items)
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
sq_model <- paste(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))), collapse = "\n")
out$cases$servqual25_P <- c(list(model = sq_model), summarise(fitcfa(sq_model, data = sim)))

# do E and P measure the same structure? correlated uniquenesses between matching items, equal loadings
ep_lines <- c()
for (d in names(dims)) {
  idx <- dims[[d]]
  ep_lines <- c(ep_lines,
    paste0(d, "_E =~ ", paste0("l", idx, "*E", idx, collapse = " + ")),
    paste0(d, "_P =~ ", paste0("l", idx, "*P", idx, collapse = " + ")))
}
ep_cu <- paste0("E", 1:25, " ~~ P", 1:25)
ep_free <- gsub("l[0-9]+\\*", "", ep_lines)
m_free <- paste(c(ep_free, ep_cu), collapse = "\n")
m_equal <- paste(c(ep_lines, ep_cu), collapse = "\n")
f_free <- fitcfa(m_free, data = sim)
f_equal <- fitcfa(m_equal, data = sim)
diff <- anova(f_equal, f_free)
out$cases$ep_structure <- list(
  free = summarise(f_free, extra = FALSE),
  equal = summarise(f_equal, extra = FALSE),
  chisq_diff = diff[["Chisq diff"]][2], df_diff = diff[["Df diff"]][2], p_diff = diff[["Pr(>Chisq)"]][2])

# lavaan with its default optimizer settings: the published HS chi-square 85.306 on 24 df
out$default_tolerance_hs_chisq <- unname(fitMeasures(cfa(hs_model, data = hs), "chisq"))
write_json(out, "tests/reference/lavaan_cfa.json", digits = NA, auto_unbox = TRUE, pretty = FALSE, matrix = "rowmajor")
cat("wrote tests/reference/lavaan_cfa.json\n")
