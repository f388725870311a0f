# Reference values for hierarchical omega: psych 2.2.9 omega() (Schmid-Leiman; GPArotation 2022.10-2) and
# semTools 0.5-6 compRelSEM(fit, higher = ) on second-order CFAs fitted by lavaan 0.6-14.
# Run from the repository root:  Rscript tests/reference/R/omega_hierarchical.R
suppressPackageStartupMessages({ library(psych); library(GPArotation); library(lavaan); library(semTools);
                                 library(jsonlite) })
bfi <- read.csv("tests/reference/data/bfi.csv")[, 1:25]           # psych::bfi items, raw (not reverse-keyed)
ex <- read.csv("tests/reference/data/example.csv")
sim <- read.csv("tests/reference/data/sim25.csv")
hs <- read.csv("tests/reference/data/holzinger_swineford.csv")
P <- paste0("P", 1:25)

om <- function(o) list(
  omega_h = o$omega_h, omega_total = o$omega.tot, omega_limit = o$omega.lim, alpha = o$alpha, g6 = o$G6,
  ecv = unname(o$ECV), omega_group = unclass(as.matrix(o$omega.group)), group_rows = rownames(o$omega.group),
  sl = unclass(o$schmid$sl), sl_rows = rownames(o$schmid$sl), sl_cols = colnames(o$schmid$sl),
  phi = unclass(o$schmid$phi))
omega_cases <- function() list(
  bfi_5 = om(omega(bfi, nfactors = 5, plot = FALSE)),     # correlations from pairwise-complete rows
  bfi_3 = om(omega(bfi, plot = FALSE)),                    # psych's default nfactors = 3
  example_3 = om(omega(ex[, P], plot = FALSE)),
  example_5 = om(omega(ex[, P], nfactors = 5, plot = FALSE)),
  sim25_5 = om(omega(sim[, P], nfactors = 5, plot = FALSE)))

out <- list(generator = "tests/reference/R/omega_hierarchical.R", r_version = R.version.string,
            psych_version = as.character(packageVersion("psych")),
            gparotation_version = as.character(packageVersion("GPArotation")),
            semtools_version = as.character(packageVersion("semTools")),
            lavaan_version = as.character(packageVersion("lavaan")))
# (1) psych::omega exactly as a user calls it (varimax stops at 1e-5 relative change, oblimin at a
#     projected gradient of 1e-5, minres at optim's default factr = 1e7)
out$psych_default <- omega_cases()
# (2) the same computation with tightened tolerances: stats::varimax eps 1e-15, GPArotation::oblimin
#     eps 1e-7, and psych's minres optim(L-BFGS-B) with factr = 1 (the calls inside psych cannot take them)
vm <- stats::varimax
assignInNamespace("varimax", function(x, normalize = TRUE, eps = 1e-5) vm(x, normalize = normalize, eps = 1e-15),
                  "stats")
ob <- GPArotation::oblimin
assignInNamespace("oblimin", function(L, Tmat = diag(ncol(L)), gam = 0, normalize = FALSE, eps = 1e-5, maxit = 1000)
  ob(L, Tmat = Tmat, gam = gam, normalize = normalize, eps = 1e-7, maxit = 20000), "GPArotation")
src <- deparse(psych:::fac, width.cutoff = 500L)
stopifnot(length(grep("parscale = rep(0.01, length(start))))", src, fixed = TRUE)) >= 3)
src <- gsub("parscale = rep(0.01, length(start))))", "parscale = rep(0.01, length(start)), factr = 1, maxit = 100000))",
            src, fixed = TRUE)
tight_fac <- eval(parse(text = src)); environment(tight_fac) <- asNamespace("psych")
assignInNamespace("fac", tight_fac, "psych")
out$psych_tight <- omega_cases()

# (3) second-order CFAs (lavaan) and semTools::compRelSEM(fit, higher = )
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
fitcfa <- function(...) suppressWarnings(cfa(..., control = CTRL, optim.force.converged = TRUE))
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
sq2 <- paste(c(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))),
               paste("service_quality =~", paste(names(dims), collapse = " + "))), collapse = "\n")
hs2 <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ng =~ visual + textual + speed"
KEYS <- c("npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "chisq.scaled", "chisq.scaling.factor",
          "cfi.robust", "rmsea.robust")
second <- function(fit, model, data_file, higher) {
  v <- fitMeasures(fit)
  list(model = model, data = data_file, higher = higher, max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
       fit = as.list(v[intersect(KEYS, names(v))]),
       parameters = parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE)[,
         c("lhs", "op", "rhs", "est", "se", "std.all")],
       comp_rel = as.list(compRelSEM(fit, higher = higher)))
}
out$second_order <- list(
  sim25_ml = second(fitcfa(sq2, data = sim), sq2, "sim25.csv", "service_quality"),
  sim25_mlr = second(fitcfa(sq2, data = sim, estimator = "MLR"), sq2, "sim25.csv", "service_quality"),
  example_ml = second(fitcfa(sq2, data = ex), sq2, "example.csv", "service_quality"),
  hs_ml = second(fitcfa(hs2, data = hs), hs2, "holzinger_swineford.csv", "g"))
write_json(out, "tests/reference/omega_hierarchical.json", digits = NA, auto_unbox = TRUE, matrix = "rowmajor")
cat("wrote tests/reference/omega_hierarchical.json\n")
