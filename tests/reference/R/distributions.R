# Reference values for servmodels._distributions: the normal and chi-square functions that
# servmodels computes without scipy (pnorm, qnorm, pchisq, noncentral pchisq) and the RMSEA
# interval's noncentralities (lavaan's lav_fit_rmsea_ci, solved here with a tight uniroot).
# Run from the repository root:  Rscript tests/reference/R/distributions.R
# Writes tests/reference/distributions.json; the Python tests read that JSON only.
suppressPackageStartupMessages(library(jsonlite))

chisq_upper <- list()
for (df in c(0.5, 1, 2, 3, 5, 10, 24, 100, 265, 1000, 5000)) {
  q <- c(1e-8, 1e-3, 0.05, 0.5, 0.95, 0.999, 1 - 1e-8)
  x <- c(qchisq(q, df), df + 40 * sqrt(2 * df) + 50)  # the last: far in the upper tail
  chisq_upper[[length(chisq_upper) + 1]] <- list(df = df, x = x, sf = pchisq(x, df, lower.tail = FALSE))
}

z <- c(-8, -3, -1.959963984540054, -0.5, 0, 1e-8, 0.5, 1.959963984540054, 3, 8, 15, 30, 37)
p <- c(1e-300, 1e-100, 1e-20, 1e-8, 0.001, 0.025, 0.05, 0.3, 0.5, 0.7, 0.95, 0.975, 0.999, 1 - 1e-8, 1 - 1e-15)

ncx2 <- list()
for (df in c(1, 3, 24, 100, 265)) {
  for (ncp in c(0.5, 3, 20, 79, 81, 100, 1000, 10000)) {
    x <- qchisq(c(0.001, 0.05, 0.5, 0.95, 0.999), df, ncp = ncp)
    ncx2[[length(ncx2) + 1]] <- list(df = df, ncp = ncp, x = x, cdf = pchisq(x, df, ncp = ncp))
  }
}

# RMSEA interval: the noncentralities lambda with pchisq(X2, df, ncp = lambda) = 0.95 (lower end) and 0.05
# (upper end), as lavaan's lav_fit_rmsea_ci, with uniroot's tolerance tightened from eps^0.25 to 1e-14
root <- function(X2, df, p, upper) {
  f <- function(lambda) pchisq(X2, df = df, ncp = lambda) - p
  if (f(0) < 0) return(0)
  uniroot(f, c(0, upper), tol = 1e-14, maxiter = 10000)$root
}
rmsea <- list()
for (case in list(c(85.306, 24, 301), c(300, 265, 1000), c(1500, 265, 1000), c(12000, 265, 100000), c(50, 1, 100),
                  c(30, 24, 301))) {
  X2 <- case[1]; df <- case[2]; n <- case[3]
  lo <- root(X2, df, 0.95, X2)
  hi <- root(X2, df, 0.05, max(n, 4 * X2))
  rmsea[[length(rmsea) + 1]] <- list(chisq = X2, df = df, n = n, lambda_low = lo, lambda_high = hi,
                                     rmsea_ci_low = sqrt(lo / (n * df)), rmsea_ci_high = sqrt(hi / (n * df)))
}

out <- list(
  generator = "tests/reference/R/distributions.R",
  r_version = R.version.string,
  chisq_upper = chisq_upper,
  norm = list(z = z, sf = pnorm(z, lower.tail = FALSE)),
  qnorm = list(p = p, ppf = qnorm(p)),
  ncx2 = ncx2,
  rmsea_ci = rmsea
)
# every number with 17 significant digits (jsonlite prints at most 15), so the JSON holds R's doubles exactly
full <- function(v) {
  if (is.list(v)) return(lapply(v, full))
  if (!is.numeric(v)) return(v)
  stopifnot(all(is.finite(v)))
  txt <- sprintf("%.17g", v)
  structure(if (length(v) == 1) txt else paste0("[", paste(txt, collapse = ", "), "]"), class = "json")
}
writeLines(toJSON(full(out), auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE), "tests/reference/distributions.json")
