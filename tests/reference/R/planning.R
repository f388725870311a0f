# Reference values for study planning (issue 18).
#   * semTools::findRMSEApower / findRMSEAsamplesize (MacCallum, Browne & Sugawara 1996) and
#     findRMSEApowernested / findRMSEAsamplesizenested (MacCallum, Browne & Cai 2006);
#   * the t-based sample size for a gap's CI half-width, with the design effect, computed here with R's qt;
#   * what servmodels estimates from a pilot file: item thresholds, one-factor loadings per dimension on
#     polychoric (lavaan::lavCor, two-step) or Pearson correlations (lavaan::cfa on the correlation block),
#     latent correlations sum(R_dd') / (sum(lambda_d) sum(lambda_d')), the outcome correlation, the SD of
#     each dimension's gap and the paired t test of each dimension's gap (t.test).
# lavaan's optimiser tolerance is tightened to rel.tol = 1e-10 (at 1e-11 nlminb reports false convergence on
# these 5 x 5 correlation blocks; 1e-10 agrees with 1e-8 to ~3e-6 and with servmodels to ~1e-8).
# Run from the repository root:  Rscript tests/reference/R/planning.R
# Writes tests/reference/planning.json; the Python tests read that JSON only.
#
# tests/reference/data/pilot.csv (60 respondents, servqual25 on a 1-5 scale, true gaps -0.1 to -0.9 by
# dimension) was drawn once with servmodels.simulate_servqual(60, instrument=servqual25 with scale 1-5, rng=18,
# item_means = E 4.0 and P 4.0 + gap, gaps tangibles -0.1, reliability -0.9, responsiveness -0.3,
# assurance -0.6, empathy -0.2, loading=0.7, village_sd=0.2); it is input data only.
suppressPackageStartupMessages({ library(semTools); library(lavaan); library(jsonlite) })

num <- function(x) if (is.character(x)) x else unname(x)

# ------------------------------------------------------------------ RMSEA power (MacCallum et al. 1996)
power_cases <- list(
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 265, n = 100, alpha = 0.05, n_groups = 1),   # the issue's case
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 265, n = 60, alpha = 0.05, n_groups = 1),
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 10, n = 100, alpha = 0.05, n_groups = 1),
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 24, n = 150, alpha = 0.01, n_groups = 1),
  list(rmsea0 = 0.05, rmsea_a = 0.01, df = 265, n = 100, alpha = 0.05, n_groups = 1),   # not-close fit
  list(rmsea0 = 0.05, rmsea_a = 0.00, df = 40, n = 200, alpha = 0.05, n_groups = 1),    # not-close fit
  list(rmsea0 = 0.00, rmsea_a = 0.05, df = 50, n = 120, alpha = 0.05, n_groups = 1),    # exact fit
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 265, n = 200, alpha = 0.05, n_groups = 2),   # two groups
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 2, n = 500, alpha = 0.05, n_groups = 1)
)
for (i in seq_along(power_cases)) {
  k <- power_cases[[i]]
  power_cases[[i]]$power <- findRMSEApower(k$rmsea0, k$rmsea_a, k$df, k$n, k$alpha, group = k$n_groups)
}

ss_cases <- list(
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 265, power = 0.8, alpha = 0.05, n_groups = 1),  # the issue's case
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 265, power = 0.9, alpha = 0.01, n_groups = 1),
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 10, power = 0.8, alpha = 0.05, n_groups = 1),
  list(rmsea0 = 0.05, rmsea_a = 0.01, df = 265, power = 0.8, alpha = 0.05, n_groups = 1),  # not-close fit
  list(rmsea0 = 0.05, rmsea_a = 0.00, df = 40, power = 0.8, alpha = 0.05, n_groups = 1),   # not-close fit
  list(rmsea0 = 0.00, rmsea_a = 0.05, df = 50, power = 0.8, alpha = 0.05, n_groups = 1),   # exact fit
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 265, power = 0.8, alpha = 0.05, n_groups = 2),  # two groups
  list(rmsea0 = 0.05, rmsea_a = 0.08, df = 2, power = 0.8, alpha = 0.05, n_groups = 1),    # n > 500 (semTools' outer loop)
  list(rmsea0 = 0.05, rmsea_a = 0.06, df = 5, power = 0.8, alpha = 0.05, n_groups = 1)     # n in the thousands
)
for (i in seq_along(ss_cases)) {
  k <- ss_cases[[i]]
  ss_cases[[i]]$n_per_group <- num(findRMSEAsamplesize(k$rmsea0, k$rmsea_a, k$df, k$power, k$alpha, group = k$n_groups))
}

# ------------------------------------------------------------------ nested models (MacCallum, Browne & Cai 2006)
nested_cases <- list(
  list(rmsea0_a = 0, rmsea0_b = 0, rmsea1_a = 0.06, rmsea1_b = 0.05, df_a = 22, df_b = 20, n = 200, alpha = 0.05, n_groups = 1),
  list(rmsea0_a = 0, rmsea0_b = 0, rmsea1_a = 0.06, rmsea1_b = 0.05, df_a = 275, df_b = 265, n = 100, alpha = 0.05, n_groups = 1),
  list(rmsea0_a = 0.06, rmsea0_b = 0.05, rmsea1_a = 0.08, rmsea1_b = 0.05, df_a = 275, df_b = 265, n = 150, alpha = 0.05, n_groups = 1),
  list(rmsea0_a = 0, rmsea0_b = 0, rmsea1_a = 0.07, rmsea1_b = 0.06, df_a = 270, df_b = 265, n = 300, alpha = 0.01, n_groups = 2)
)
for (i in seq_along(nested_cases)) {
  k <- nested_cases[[i]]
  nested_cases[[i]]$power <- findRMSEApowernested(k$rmsea0_a, k$rmsea0_b, k$rmsea1_a, k$rmsea1_b, k$df_a, k$df_b,
                                                  k$n, k$alpha, group = k$n_groups)
}
nested_ss_cases <- list(
  list(rmsea0_a = 0, rmsea0_b = 0, rmsea1_a = 0.06, rmsea1_b = 0.05, df_a = 22, df_b = 20, power = 0.8, alpha = 0.05, n_groups = 1),
  list(rmsea0_a = 0, rmsea0_b = 0, rmsea1_a = 0.06, rmsea1_b = 0.05, df_a = 275, df_b = 265, power = 0.8, alpha = 0.05, n_groups = 1),
  list(rmsea0_a = 0.06, rmsea0_b = 0.05, rmsea1_a = 0.08, rmsea1_b = 0.05, df_a = 275, df_b = 265, power = 0.9, alpha = 0.05, n_groups = 1),
  list(rmsea0_a = 0, rmsea0_b = 0, rmsea1_a = 0.07, rmsea1_b = 0.06, df_a = 270, df_b = 265, power = 0.8, alpha = 0.01, n_groups = 2)
)
for (i in seq_along(nested_ss_cases)) {
  k <- nested_ss_cases[[i]]
  nested_ss_cases[[i]]$n_per_group <- num(findRMSEAsamplesizenested(k$rmsea0_a, k$rmsea0_b, k$rmsea1_a, k$rmsea1_b,
                                                                    k$df_a, k$df_b, k$power, k$alpha, group = k$n_groups))
}

# ------------------------------------------------------------------ gap precision (closed form, R's qt)
n_srs <- function(sd, hw, cl) {  # smallest n with t_{n-1} sd / sqrt(n) <= half-width
  n <- 2
  while (qt(1 - (1 - cl) / 2, n - 1) * sd / sqrt(n) > hw) n <- n + 1
  n
}
design_n <- function(n0, icc, m) ceiling(round(n0 * (1 + (m - 1) * icc), 9))
gap_cases <- list(
  list(sd = 0.6, half_width = 0.1, confidence_level = 0.95, icc = 0.05, cluster_size = 10),  # the issue's case
  list(sd = 0.6, half_width = 0.1, confidence_level = 0.95),
  list(sd = 0.8, half_width = 0.15, confidence_level = 0.90, icc = 0.1, cluster_size = 8),
  list(sd = 0.5, half_width = 0.05, confidence_level = 0.99, icc = 0.02, cluster_size = 25),
  list(sd = 1.2, half_width = 0.5, confidence_level = 0.95),
  list(sd = 0.3, half_width = 0.4, confidence_level = 0.95),                                # n = 2 bound
  list(sd = 0.6, half_width = 0.1, confidence_level = 0.95, icc = 0, cluster_size = 10),
  list(sd = 0.7, half_width = 0.1, confidence_level = 0.95, icc = 0.05, cluster_size = 21), # n0 * deff integral
  list(sd = 0.5039, half_width = 0.1, confidence_level = 0.95, icc = 0.01, cluster_size = 10)  # 100 * 1.09 = 109.00000000000001
)
for (i in seq_along(gap_cases)) {
  k <- gap_cases[[i]]
  n0 <- n_srs(k$sd, k$half_width, k$confidence_level)
  gap_cases[[i]]$n_srs <- n0
  if (!is.null(k$icc)) {
    gap_cases[[i]]$design_effect <- 1 + (k$cluster_size - 1) * k$icc
    gap_cases[[i]]$n <- design_n(n0, k$icc, k$cluster_size)
  } else {
    gap_cases[[i]]$n <- n0
  }
}
# a fixed number of clusters: the smallest cluster size m with k m >= ceiling(n0 (1 + (m - 1) icc))
cluster_cases <- list(
  list(sd = 0.6, half_width = 0.1, confidence_level = 0.95, icc = 0.05, n_clusters = 12),
  list(sd = 0.5, half_width = 0.1, confidence_level = 0.95, icc = 0.02, n_clusters = 12),
  list(sd = 0.8, half_width = 0.2, confidence_level = 0.90, icc = 0.1, n_clusters = 30)
)
for (i in seq_along(cluster_cases)) {
  k <- cluster_cases[[i]]
  n0 <- n_srs(k$sd, k$half_width, k$confidence_level)
  m <- 1
  while (k$n_clusters * m < design_n(n0, k$icc, m)) m <- m + 1
  cluster_cases[[i]]$n_srs <- n0
  cluster_cases[[i]]$cluster_size <- m
  cluster_cases[[i]]$n <- k$n_clusters * m
  cluster_cases[[i]]$design_effect <- 1 + (m - 1) * k$icc
}

# ------------------------------------------------------------------ pilot estimates
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
pilot_estimates <- function(file, lo, hi, method) {
  d <- read.csv(file)
  n <- nrow(d)
  cols <- c(paste0("E", 1:25), paste0("P", 1:25))
  K <- hi - lo + 1
  thresholds <- lapply(cols, function(cl) qnorm(cumsum(tabulate(d[[cl]] - lo + 1, nbins = K)) / n)[1:(K - 1)])
  names(thresholds) <- cols
  all <- c(cols, "satisfaction")
  R <- if (method == "polychoric") {
    unclass(lavCor(d[, all], ordered = all, estimator = "two.step", output = "cor"))
  } else {
    cor(d[, all])
  }
  blocks <- list()
  for (s in c("E", "P")) for (dn in names(dims)) blocks[[paste0(s, ".", dn)]] <- paste0(s, dims[[dn]])
  loadings <- list()
  Lsum <- c()
  for (b in names(blocks)) {
    v <- blocks[[b]]
    model <- paste("f =~", paste(v, collapse = " + "))
    fit <- cfa(model, sample.cov = R[v, v], sample.nobs = n, std.lv = TRUE, control = list(rel.tol = 1e-10))
    ss <- standardizedSolution(fit)
    lam <- ss$est.std[ss$op == "=~"]
    names(lam) <- v
    loadings[v] <- as.list(lam)
    Lsum[b] <- sum(lam)
  }
  nb <- length(blocks)
  Phi <- diag(nb)
  for (a in 1:nb) for (b in 1:nb) if (a != b) {
    Phi[a, b] <- sum(R[blocks[[a]], blocks[[b]]]) / (Lsum[a] * Lsum[b])
  }
  dimnames(Phi) <- list(names(blocks), names(blocks))
  pb <- grep("^P\\.", names(blocks))
  PhiP <- Phi[pb, pb]
  S <- sum(R["satisfaction", paste0("P", 1:25)])
  r_out <- S * sqrt(sum(PhiP)) / sum(Lsum[pb] * rowSums(PhiP))
  gap_sd <- sapply(dims, function(i) sd(rowMeans(d[, paste0("P", i)]) - rowMeans(d[, paste0("E", i)])))
  ttests <- lapply(dims, function(i) {
    g <- rowMeans(d[, paste0("P", i)]) - rowMeans(d[, paste0("E", i)])
    t <- t.test(g)
    list(estimate = unname(t$estimate), ci_low = t$conf.int[1], ci_high = t$conf.int[2], p_value = t$p.value,
         statistic = unname(t$statistic))
  })
  item_means <- lapply(cols, function(cl) mean(d[[cl]]))
  names(item_means) <- cols
  list(file = file, scale = c(lo, hi), method = method, n = n, thresholds = thresholds, loadings = loadings,
       latent_correlation = Phi, latent_names = names(blocks), outcome_correlation = r_out, gap_sd = as.list(gap_sd),
       t_tests = ttests, item_means = item_means)
}
pilots <- list(
  pilot_estimates("tests/reference/data/pilot.csv", 1, 5, "polychoric"),
  pilot_estimates("tests/reference/data/pilot.csv", 1, 5, "pearson"),
  pilot_estimates("tests/reference/data/example.csv", 1, 4, "polychoric")
)

out <- list(
  generator = "tests/reference/R/planning.R", r_version = R.version.string,
  semTools_version = as.character(packageVersion("semTools")), lavaan_version = as.character(packageVersion("lavaan")),
  rmsea_power = power_cases, rmsea_sample_size = ss_cases, nested_power = nested_cases,
  nested_sample_size = nested_ss_cases, gap = gap_cases, gap_clusters = cluster_cases, pilots = pilots
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/planning.json")
cat("wrote tests/reference/planning.json\n")
