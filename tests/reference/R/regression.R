# Reference values for satisfaction regression and the SERVQUAL-vs-SERVPERF tests.
# R lm, sandwich::vcovHC(HC3) and vcovCL(HC1), lmtest::jtest/coxtest/encomptest/bptest, MASS::polr.
# Run from the repository root:  Rscript tests/reference/R/regression.R
suppressPackageStartupMessages({ library(lmtest); library(sandwich); library(MASS); library(jsonlite) })
d <- read.csv("tests/reference/data/sim_regress.csv")
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
P <- sapply(dims, function(i) rowMeans(d[, paste0("P", i)]))
E <- sapply(dims, function(i) rowMeans(d[, paste0("E", i)]))
G <- P - E
perf <- data.frame(sat = d$satisfaction, P, village = d$village)
qual <- data.frame(sat = d$satisfaction, G, village = d$village)
f <- sat ~ tangibles + reliability + responsiveness + assurance + empathy
m_perf <- lm(f, data = perf)
m_qual <- lm(f, data = qual)
summ <- function(m) list(coef = as.list(coef(m)), se_classical = as.list(sqrt(diag(vcov(m)))),
  se_hc3 = as.list(sqrt(diag(vcovHC(m, type = "HC3")))),
  se_cluster = as.list(sqrt(diag(vcovCL(m, cluster = ~village, type = "HC1")))),
  r2 = summary(m)$r.squared, adj_r2 = summary(m)$adj.r.squared, aic = AIC(m), bic = BIC(m),
  fstat = unname(summary(m)$fstatistic[1]), bp = unname(bptest(m)$statistic), bp_p = unname(bptest(m)$p.value))
out <- list(generator = "tests/reference/R/regression.R", r_version = R.version.string,
            lmtest_version = as.character(packageVersion("lmtest")), sandwich_version = as.character(packageVersion("sandwich")),
            MASS_version = as.character(packageVersion("MASS")))
out$servperf <- summ(m_perf)
out$servqual <- summ(m_qual)
# SERVQUAL = M1, SERVPERF = M2: first rows test "M1 is adequate against M2"
both <- data.frame(sat = d$satisfaction, setNames(as.data.frame(G), paste0("g_", names(dims))),
                   setNames(as.data.frame(P), paste0("p_", names(dims))))
f1 <- sat ~ g_tangibles + g_reliability + g_responsiveness + g_assurance + g_empathy
f2 <- sat ~ p_tangibles + p_reliability + p_responsiveness + p_assurance + p_empathy
j <- jtest(lm(f1, both), lm(f2, both))
cx <- coxtest(lm(f1, both), lm(f2, both))
en <- encomptest(lm(f1, both), lm(f2, both))
out$jtest <- list(statistic = j[, 3], p_value = j[, 4])
out$coxtest <- list(statistic = cx[, 3], p_value = cx[, 4])
out$encomptest <- list(F = en[1:2, 3], df = en[1:2, 2], p_value = en[1:2, 4])
po <- polr(factor(sat, ordered = TRUE) ~ tangibles + reliability + responsiveness + assurance + empathy,
           data = perf, method = "logistic", Hess = TRUE, control = list(reltol = 1e-14, maxit = 10000))  # tight: the default stops ~1e-3 from the optimum
out$polr <- list(coef = as.list(coef(po)), zeta = as.list(po$zeta), se = as.list(sqrt(diag(vcov(po)))), loglik = as.numeric(logLik(po)))
write_json(out, "tests/reference/regression.json", digits = NA, auto_unbox = TRUE)
cat("wrote tests/reference/regression.json\n")
