# Reference values for cluster-robust CFA (lavaan cfa(..., cluster = ) without level: blocks), lavaan 0.6-14.
# Run from the repository root:  Rscript tests/reference/R/lavaan_cluster.R
# Writes data/sim25_cluster.csv (simulated, misfitting, 30 villages) if it is missing, then
# tests/reference/lavaan_cluster.json.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
# nlminb reports "false convergence" at this tolerance; the gradient left is recorded per fit
fitcfa <- function(...) suppressWarnings(cfa(..., control = CTRL, optim.force.converged = TRUE))

sim_file <- "tests/reference/data/sim25_cluster.csv"
if (!file.exists(sim_file)) {
  # 25 items, five correlated factors with a village (cluster) part (ICC 0.25), village-specific residual
  # scales, two cross-loadings and a correlated residual (so the five-factor model misfits), cut into 1-5
  set.seed(20240517)
  G <- 30
  sizes <- sample(12:28, G, replace = TRUE)
  village <- rep(sprintf("V%02d", 1:G), sizes)
  n <- length(village)
  Phi <- matrix(0.5, 5, 5); diag(Phi) <- 1
  L <- chol(Phi)
  fb <- matrix(rnorm(G * 5), G, 5) %*% L * sqrt(0.25)
  fw <- matrix(rnorm(n * 5), n, 5) %*% L * sqrt(0.75)
  F <- fb[rep(1:G, sizes), ] + fw
  lam <- runif(25, 0.55, 0.85)
  Y <- matrix(0, n, 25)
  for (j in 1:25) {
    d <- (j - 1) %/% 5 + 1
    Y[, j] <- lam[j] * F[, d] + rnorm(n, sd = sqrt(1 - lam[j]^2))
  }
  Y[, 6] <- Y[, 6] + 0.45 * F[, 1]
  Y[, 12] <- Y[, 12] + 0.4 * F[, 4]
  e <- rnorm(n); Y[, 21] <- Y[, 21] + 0.5 * e; Y[, 22] <- Y[, 22] + 0.5 * e
  s <- exp(rnorm(G, sd = 0.35))[rep(1:G, sizes)]
  Y <- Y * s
  P <- apply(Y, 2, function(y) as.integer(cut(y, quantile(y, c(0, 0.08, 0.25, 0.55, 0.82, 1)), include.lowest = TRUE)))
  colnames(P) <- paste0("P", 1:25)
  sat <- pmin(5, pmax(1, round(3 + 0.5 * rowMeans(scale(Y)) * 2 + rnorm(n, sd = 0.7))))
  d <- data.frame(respondent_id = sprintf("R%04d", 1:n), village = village,
                  gender = sample(c("female", "male"), n, replace = TRUE), P, satisfaction = as.integer(sat))
  write.csv(d, sim_file, row.names = FALSE, quote = FALSE)
}
sim <- read.csv(sim_file)
ex <- read.csv("tests/reference/data/example.csv")
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
sq_model <- paste(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))),
                  collapse = "\n")

KEYS <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
          "baseline.chisq", "baseline.df", "baseline.chisq.scaled", "baseline.chisq.scaling.factor",
          "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
          "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "logl", "aic", "bic")
fm <- function(fit) { v <- fitMeasures(fit); as.list(v[intersect(KEYS, names(v))]) }
pe <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE, remove.nonfree = FALSE)
  p[, intersect(c("lhs", "op", "rhs", "group", "est", "se", "std.all"), names(p))]
}
entry <- function(fit, data_file, cluster, group = NULL) {
  list(model = sq_model, data = data_file, cluster = cluster, group = group,
       n = lavInspect(fit, "ntotal"), n_clusters = sum(unlist(lapply(fit@Data@Lp, function(l) l$nclusters[[2]]))),
       options = fit@Options[c("se", "test", "information", "observed.information", "meanstructure")],
       max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
       fit = fm(fit), parameters = pe(fit))
}

out <- list(generator = "tests/reference/R/lavaan_cluster.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")))
# (a) the bundled example: 100 respondents in 12 villages
out$example_mlr <- entry(fitcfa(sq_model, data = ex, cluster = "village", estimator = "MLR"),
                         "example.csv", "village")
# (b) the simulated misfitting file: 593 respondents in 30 villages
out$sim_mlr <- entry(fitcfa(sq_model, data = sim, cluster = "village", estimator = "MLR"),
                     "sim25_cluster.csv", "village")
# (c) estimator = "ML" with a cluster: the same robust SEs, the test with observed.information = "h1"
out$sim_ml <- entry(fitcfa(sq_model, data = sim, cluster = "village", estimator = "ML"),
                    "sim25_cluster.csv", "village")
# (d) two groups, clusters within each group
out$sim_mlr_groups <- entry(fitcfa(sq_model, data = sim, cluster = "village", group = "gender", estimator = "MLR"),
                            "sim25_cluster.csv", "village", "gender")
# (e) the same data without the cluster (meanstructure as with it): SEs must differ
out$sim_mlr_no_cluster <- entry(fitcfa(sq_model, data = sim, estimator = "MLR", meanstructure = TRUE),
                                "sim25_cluster.csv", NULL)
write_json(out, "tests/reference/lavaan_cluster.json", digits = NA, auto_unbox = TRUE, matrix = "rowmajor",
           null = "null")
cat("wrote tests/reference/lavaan_cluster.json\n")
