# Reference values for the latent gap model (issue 17 part 1) from lavaan (Rosseel).
# Run from the repository root:  Rscript tests/reference/R/lavaan_latent_gap.R
# Writes tests/reference/data/latent_gap_sim.csv (simulated once, seed below) and
# tests/reference/lavaan_latent_gap.json; the Python tests read those files only.
#
# The model: E and P dimension factors fitted jointly on the same respondents (10 factors for
# the 25-item SERVQUAL), each item on its own set's dimension factor, correlated uniquenesses
# E_i ~~ P_i, all factors correlated, a mean structure; invariance between the two
# administrations step by step (longitudinal invariance, Widaman, Ferrer & Conger 2010):
#   configural  free loadings, free intercepts, factor means 0
#   metric      loadings of E_i and P_i equal (shared labels)
#   scalar      + intercepts of E_i and P_i equal; E factor means 0, P factor means free
#   strict      + residual variances of E_i and P_i equal
# Under scalar invariance the P factor means are the latent gaps (P - E) per dimension.
# Every model's syntax is written out here, independently of servmodels.
suppressPackageStartupMessages({ library(lavaan); library(MASS); library(jsonlite) })

# nlminb at a tight tolerance (as lavaan_cfa.R), then polished by BFGS from that solution: on these
# 220-parameter models nlminb stops with "false convergence" up to 5e-5 above the minimum of the
# chi-square (the std.lv models); the polished fit is kept when its objective is lower.
CTRL <- list(rel.tol = 1e-13, iter.max = 20000, eval.max = 40000)
fitcfa <- function(...) {
  f1 <- suppressWarnings(cfa(..., control = CTRL, optim.force.converged = TRUE))
  f2 <- suppressWarnings(cfa(..., optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 20000),
                             start = f1, optim.force.converged = TRUE))
  if (fitMeasures(f2, "fmin") < fitMeasures(f1, "fmin")) f2 else f1
}

dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
FIT_KEYS <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "baseline.chisq", "baseline.df")
ROBUST_KEYS <- c("chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi.scaled", "rmsea.scaled",
                 "cfi.robust", "rmsea.robust")

# std_lv: configural with every factor variance 1 (lavaan std.lv = TRUE); from metric on, E variances 1
# and P variances free (the equal loadings carry the scale over), every loading free and labelled.
gap_model <- function(step, std_lv = FALSE, free_intercepts = integer(0)) {
  lines <- c()
  equal_loadings <- step != "configural"
  for (d in names(dims)) {
    idx <- dims[[d]]
    for (s in c("E", "P")) {
      terms <- sapply(seq_along(idx), function(k) {
        i <- idx[k]
        lab <- if (equal_loadings && (std_lv || k > 1)) paste0("l", i, "*") else ""
        paste0(lab, s, i)
      })
      lines <- c(lines, paste0(s, "_", d, " =~ ", paste(terms, collapse = " + ")))
    }
    if (std_lv && equal_loadings) lines <- c(lines, paste0("P_", d, " ~~ NA*P_", d))
  }
  lines <- c(lines, paste0("E", 1:25, " ~~ P", 1:25))
  if (step %in% c("scalar", "strict")) {
    for (i in 1:25) {
      lab <- if (i %in% free_intercepts) "" else paste0("i", i, "*")
      lines <- c(lines, paste0("E", i, " ~ ", lab, "1"), paste0("P", i, " ~ ", lab, "1"))
    }
    lines <- c(lines, paste0("E_", names(dims), " ~ 0*1"), paste0("P_", names(dims), " ~ NA*1"))
  }
  if (step == "strict") lines <- c(lines, paste0("E", 1:25, " ~~ r", 1:25, "*E", 1:25),
                                   paste0("P", 1:25, " ~~ r", 1:25, "*P", 1:25))
  paste(lines, collapse = "\n")
}

latent_gaps <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  m <- pe[pe$op == "~1" & pe$lhs %in% paste0("P_", names(dims)), ]
  data.frame(dimension = sub("^P_", "", m$lhs), estimate = m$est, se = m$se, z = m$z, p_value = m$pvalue,
             ci_low = m$ci.lower, ci_high = m$ci.upper, std_lv = m$std.lv)
}

# lavTestScore's constraints name parameters by plabel; translate to lhs/op/rhs
score_table <- function(fit) {
  st <- lavTestScore(fit)
  pt <- parTable(fit)
  groups <- lavInspect(fit, "group.label")
  name <- function(pl) { k <- match(pl, pt$plabel); c(pt$lhs[k], pt$op[k], pt$rhs[k], pt$group[k]) }
  rows <- lapply(seq_len(nrow(st$uni)), function(r) {
    a <- name(st$uni$lhs[r]); b <- name(st$uni$rhs[r])
    list(first = trimws(paste(a[1], a[2], a[3])), first_group = if (length(groups)) groups[as.integer(a[4])] else NA,
         lhs = b[1], op = b[2], rhs = b[3], group = if (length(groups)) groups[as.integer(b[4])] else NA,
         chisq = st$uni$X2[r], p_value = st$uni$p.value[r])
  })
  list(total = list(chisq = st$test$X2, df = st$test$df, p_value = st$test$p.value), univariate = rows)
}

observed_gaps <- function(df) {
  lapply(names(dims), function(d) {
    g <- rowMeans(df[, paste0("P", dims[[d]])]) - rowMeans(df[, paste0("E", dims[[d]])])
    tt <- t.test(g)
    list(dimension = d, estimate = mean(g), se = sd(g) / sqrt(length(g)), ci_low = tt$conf.int[1],
         ci_high = tt$conf.int[2], p_value = tt$p.value)
  })
}

run_case <- function(df, std_lv = FALSE, free_intercepts = integer(0), estimator = "ML", scores = TRUE) {
  fits <- list()
  for (step in c("configural", "metric", "scalar", "strict")) {
    fits[[step]] <- fitcfa(gap_model(step, std_lv, free_intercepts), data = df, meanstructure = TRUE,
                           std.lv = std_lv, estimator = estimator)
  }
  keys <- if (estimator == "MLR") c(FIT_KEYS, ROBUST_KEYS) else FIT_KEYS
  inv <- lapply(names(fits), function(s) c(list(model = s), as.list(fitMeasures(fits[[s]], keys))))
  diffs <- lapply(2:4, function(k) {
    a <- anova(fits[[k]], fits[[k - 1]])
    list(model = names(fits)[k], chisq_diff = a[["Chisq diff"]][2], df_diff = a[["Df diff"]][2],
         p_diff = a[["Pr(>Chisq)"]][2])
  })
  out <- list(std_lv = std_lv, free_intercepts = free_intercepts, estimator = estimator,
              invariance = inv, differences = diffs, latent_gaps = latent_gaps(fits$scalar),
              observed_gaps = observed_gaps(df), n = nobs(fits$scalar),
              scalar_parameters = parameterEstimates(fits$scalar)[, c("lhs", "op", "rhs", "est", "se")])
  if (scores) out$score_tests <- score_table(fits$scalar)
  out
}

# ---------------------------------------------------------------------------------- data
# (b) a simulated E/P survey (n = 600, 1-5 scale) where scalar invariance fails for item 3:
# its P intercept is 0.6 below its E intercept; loadings are equal across E and P.
sim_path <- "tests/reference/data/latent_gap_sim.csv"
set.seed(20260317)
n <- 600
lam <- rep(c(1, 0.9, 0.8, 1.1, 0.7), 5)
L <- matrix(0, 50, 10)
for (k in 1:5) { idx <- dims[[k]]; L[idx, k] <- lam[idx]; L[25 + idx, 5 + k] <- lam[idx] }
# misfit the fitted models leave out (so no fit index sits at its bound): cross-loadings of items 10 and
# 23, and residual covariances of items 4 and 5, the same in E and P
L[10, 3] <- L[35, 8] <- 0.45
L[23, 4] <- L[48, 9] <- 0.40
Phi <- matrix(0.25, 10, 10)              # between-dimension covariances
diag(Phi) <- 0.6
for (k in 1:5) Phi[k, 5 + k] <- Phi[5 + k, k] <- 0.35   # E and P of the same dimension
kappa <- c(rep(0, 5), -0.40, -0.25, -0.10, -0.55, 0.05)  # true latent gaps
nu <- rep(c(3.6, 3.4, 3.7, 3.5, 3.8), 5)
nu_P <- nu; nu_P[3] <- nu[3] - 0.6
Theta <- diag(0.45, 50)
for (i in 1:25) Theta[i, 25 + i] <- Theta[25 + i, i] <- 0.12
Theta[4, 5] <- Theta[5, 4] <- Theta[29, 30] <- Theta[30, 29] <- 0.18
eta <- mvrnorm(n, kappa, Phi)
eps <- mvrnorm(n, rep(0, 50), Theta)
y <- sweep(eta %*% t(L) + eps, 2, c(nu, nu_P), "+")
y <- pmin(pmax(round(y), 1), 5)
colnames(y) <- c(paste0("E", 1:25), paste0("P", 1:25))
sim <- data.frame(respondent_id = sprintf("S%04d", 1:n), y)
write.csv(sim, sim_path, row.names = FALSE, quote = FALSE)
sim <- read.csv(sim_path)

example <- read.csv("tests/reference/data/example.csv")

out <- list(generator = "tests/reference/R/lavaan_latent_gap.R", r_version = R.version.string,
            lavaan_version = as.character(packageVersion("lavaan")), cases = list())
out$cases$example <- run_case(example)
out$cases$example_std_lv <- run_case(example, std_lv = TRUE, scores = FALSE)
out$cases$sim <- run_case(sim)
out$cases$sim_partial3 <- run_case(sim, free_intercepts = 3L)
out$cases$sim_mlr <- run_case(sim, estimator = "MLR", scores = FALSE)
# the score tests in general: scalar invariance across the two schools of Holzinger & Swineford (1939)
# (group.equal constraints), the textbook case of lavTestScore
hs <- read.csv("tests/reference/data/holzinger_swineford.csv")
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
f_hs <- fitcfa(hs_model, data = hs, group = "school", group.equal = c("loadings", "intercepts"))
out$hs_scalar_score_tests <- c(list(model = hs_model, chisq = unname(fitMeasures(f_hs, "chisq"))), score_table(f_hs))
write_json(out, "tests/reference/lavaan_latent_gap.json", digits = NA, auto_unbox = TRUE, pretty = FALSE)
cat("wrote tests/reference/lavaan_latent_gap.json and", sim_path, "\n")
