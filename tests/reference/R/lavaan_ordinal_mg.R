# Reference values for ordinal multi-group CFA and invariance (WLSMV, delta parameterization), lavaan 0.6-14.
# Run from the repository root:  Rscript tests/reference/R/lavaan_ordinal_mg.R
#
# Data 1 (public): Holzinger & Swineford (1939), the nine tests cut into three ordered categories by
#   cut(x, breaks = 3) (as in the plavaan vignette on ordinal invariance), two schools as groups; written to
#   tests/reference/data/hs_ordinal.csv so Python reads the same categories.
# Data 2 (simulated, committed as tests/reference/data/ordinal_mg.csv): three groups, 8 four-category items,
#   two factors, a cross-loading the model leaves out (misfit), one item's thresholds shifted in group 3.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
# nlminb's relative tolerance as tight as it still converges (lavaan's default is 1e-10; at 1e-12 some of
# these fits stop with "a solution has NOT been found"): the tolerance used is recorded with each fit
fitcfa <- function(...) {
  for (tol in c(1e-14, 1e-13, 1e-12, 1e-11, 1e-10)) {
    f <- suppressWarnings(cfa(..., control = list(rel.tol = tol, iter.max = 20000, eval.max = 40000)))
    if (lavInspect(f, "converged")) { attr(f, "rel.tol") <- tol; return(f) }
  }
  stop("no convergence")
}

hs <- read.csv("tests/reference/data/holzinger_swineford.csv")
hso <- hs[, c("school", paste0("x", 1:9))]
for (v in paste0("x", 1:9)) hso[[v]] <- cut(hso[[v]], breaks = 3, labels = FALSE, include.lowest = TRUE)
write.csv(hso, "tests/reference/data/hs_ordinal.csv", row.names = FALSE)
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

sim <- read.csv("tests/reference/data/ordinal_mg.csv")
sim_model <- "f1 =~ y1 + y2 + y3 + y4\nf2 =~ y5 + y6 + y7 + y8"

KEYS <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
          "chisq.shift.parameters", "baseline.chisq", "baseline.df", "baseline.chisq.scaled",
          "cfi", "tli", "cfi.scaled", "tli.scaled", "rmsea", "rmsea.scaled", "srmr")
fm <- function(fit) { v <- fitMeasures(fit); as.list(v[intersect(KEYS, names(v))]) }
pe <- function(fit) parameterEstimates(fit, remove.nonfree = TRUE)[, c("lhs", "op", "rhs", "group", "est", "se")]
steps <- list(configural = "", metric = c("thresholds", "loadings"),
              scalar = c("thresholds", "loadings", "intercepts"))
case <- function(model, data, group) {
  fits <- lapply(steps, function(ge) fitcfa(model, data = data, group = group, ordered = TRUE, group.equal = ge))
  lrt <- lavTestLRT(fits$configural, fits$metric)  # scaled-shifted difference (satorra.2000, A.method = "delta")
  list(model = model, group = group, groups = lavInspect(fits$configural, "group.label"),
       n = unname(unlist(lavInspect(fits$configural, "nobs"))),
       steps = lapply(fits, function(f) list(fit = fm(f), parameters = pe(f), rel_tol = attr(f, "rel.tol"))),
       diff_metric = list(chisq_diff = lrt[2, "Chisq diff"], df_diff = lrt[2, "Df diff"],
                          p = lrt[2, "Pr(>Chisq)"]))
}
# E versus P for ordinal items (servmodels' ep_structure_test with estimator = "WLSMV"): the bundled example,
# E and P dimension factors jointly with correlated uniquenesses of matching items, loadings free, then each
# item's loading equal across E and P (labels), compared by lavTestLRT (scaled-and-shifted, satorra.2000)
ex <- read.csv("tests/reference/data/example.csv")
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
ep_lines <- function(equal) {
  lines <- c()
  for (d in names(dims)) for (s in c("E", "P")) {
    cols <- paste0(s, dims[[d]])
    rhs <- if (equal) paste0("l", dims[[d]], "*", cols) else cols
    lines <- c(lines, paste0(d, "_", s, " =~ ", paste(rhs, collapse = " + ")))
  }
  c(lines, paste0("E", 1:25, " ~~ P", 1:25))
}
ep_free <- fitcfa(paste(ep_lines(FALSE), collapse = "\n"), data = ex[, c(paste0("E", 1:25), paste0("P", 1:25))],
                  ordered = TRUE)
ep_equal <- fitcfa(paste(ep_lines(TRUE), collapse = "\n"), data = ex[, c(paste0("E", 1:25), paste0("P", 1:25))],
                   ordered = TRUE)
ep_lrt <- lavTestLRT(ep_free, ep_equal)
ep <- list(free_loadings = list(fit = fm(ep_free), rel_tol = attr(ep_free, "rel.tol")),
           equal_loadings = list(fit = fm(ep_equal), rel_tol = attr(ep_equal, "rel.tol")),
           diff = list(chisq_diff = ep_lrt[2, "Chisq diff"], df_diff = ep_lrt[2, "Df diff"], p = ep_lrt[2, "Pr(>Chisq)"]))

out <- list(generator = "tests/reference/R/lavaan_ordinal_mg.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")),
            hs = case(hs_model, hso, "school"), sim = case(sim_model, sim, "g"), ep_example = ep)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/lavaan_ordinal_mg.json")
