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
# polr: tight optimiser (the default stops ~1e-3 from the optimum) and a small finite-difference step
# for optim's Hessian of polr's analytic gradient (default ndeps = 1e-3 leaves SEs ~1e-6 off): SEs to ~1e-9
polr_ref <- function(f, data) {
  npar <- length(all.vars(f)) - 1 + length(unique(data[[all.vars(f)[1]]])) - 1  # beta and cut-points
  po <- polr(f, data = data, method = "logistic", Hess = TRUE,
             control = list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, npar)))
  list(coef = as.list(coef(po)), zeta = as.list(po$zeta), se = as.list(sqrt(diag(vcov(po)))),
       loglik = as.numeric(logLik(po)), n = po$n, convergence = po$convergence)
}
out$polr <- polr_ref(factor(sat, ordered = TRUE) ~ tangibles + reliability + responsiveness + assurance + empathy, perf)
# psych::bfi: the 6-level item A1 on the five trait scores (instrument tests/reference/instruments/bfi.json:
# reverse-keyed items recoded 7 - x, trait score = item mean), respondents with a missing answer dropped
bfi <- read.csv("tests/reference/data/bfi.csv")
traits <- list(agreeableness = paste0("A", 1:5), conscientiousness = paste0("C", 1:5),
               extraversion = paste0("E", 1:5), neuroticism = paste0("N", 1:5), openness = paste0("O", 1:5))
items <- bfi[, unlist(traits)]
for (r in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) items[[r]] <- 7 - items[[r]]
bd <- data.frame(y = factor(bfi$A1, ordered = TRUE), sapply(traits, function(k) rowMeans(items[, k])))
bd <- bd[complete.cases(bd), ]
out$polr_bfi <- polr_ref(y ~ agreeableness + conscientiousness + extraversion + neuroticism + openness, bd)
write_json(out, "tests/reference/regression.json", digits = NA, auto_unbox = TRUE)
cat("wrote tests/reference/regression.json\n")
