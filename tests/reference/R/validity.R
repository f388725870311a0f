# Reference values for reliability and validity: semTools 0.5-6, psych 2.2.9, lavaan 0.6-14.
# Run from the repository root:  Rscript tests/reference/R/validity.R
suppressPackageStartupMessages({ library(lavaan); library(semTools); library(psych); library(jsonlite) })
sim <- read.csv("tests/reference/data/sim25.csv")
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
model <- paste(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))), collapse = "\n")
items <- paste0("P", 1:25)
X <- sim[, items]
fit <- cfa(model, data = sim, control = list(rel.tol = 1e-13), optim.force.converged = TRUE)
out <- list(generator = "tests/reference/R/validity.R", r_version = R.version.string,
            semtools_version = as.character(packageVersion("semTools")),
            psych_version = as.character(packageVersion("psych")))
out$omega <- as.list(compRelSEM(fit))            # obs.var = TRUE (default)
out$ave <- as.list(AVE(fit))
out$htmt <- unclass(htmt(model, data = sim))
out$factor_cor <- unclass(lavInspect(fit, "cor.lv"))
k <- KMO(X)
out$kmo <- list(overall = k$MSA, items = unname(k$MSAi))
b <- cortest.bartlett(cor(X), n = nrow(X))
out$bartlett <- list(chisq = b$chisq, df = b$df, p_value = b$p.value)
f1 <- fa(X, nfactors = 5, fm = "minres", rotate = "none")
out$fa_minres_unrotated <- list(loadings = unclass(f1$loadings), uniquenesses = unname(f1$uniquenesses))
f2 <- fa(X, nfactors = 5, fm = "minres", rotate = "promax")
out$fa_minres_promax <- list(loadings = unclass(f2$loadings), phi = unclass(f2$Phi))
f3 <- fa(X, nfactors = 5, fm = "ml", rotate = "varimax")
out$fa_ml_varimax <- list(loadings = unclass(f3$loadings), uniquenesses = unname(f3$uniquenesses))
f4 <- fa(X, nfactors = 5, fm = "minres", rotate = "oblimin")
out$fa_minres_oblimin <- list(loadings = unclass(f4$loadings), phi = unclass(f4$Phi))
set.seed(1)
pa <- fa.parallel(X, fa = "both", plot = FALSE, n.iter = 2)
out$parallel <- list(pc_values = pa$pc.values, fa_values = pa$fa.values)
# psych::bfi (tests/reference/instruments/bfi.json: reverse-keyed items recoded 7 - x; respondents with a
# missing answer dropped): the EFA benchmark data, five factors, each extraction with the rotations used
bfi <- read.csv("tests/reference/data/bfi.csv")[, 1:25]
for (r in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) bfi[[r]] <- 7 - bfi[[r]]
bfi <- bfi[complete.cases(bfi), ]
bfi_fa <- function(fm, rotate) {
  f <- fa(bfi, nfactors = 5, fm = fm, rotate = rotate)
  list(loadings = unclass(f$loadings), uniquenesses = unname(f$uniquenesses),
       phi = if (is.null(f$Phi)) NULL else unclass(f$Phi))
}
out$bfi <- list(n = nrow(bfi),
  minres_promax = bfi_fa("minres", "promax"), ml_promax = bfi_fa("ml", "promax"),
  minres_oblimin = bfi_fa("minres", "oblimin"), ml_varimax = bfi_fa("ml", "varimax"),
  minres_none = bfi_fa("minres", "none"))
set.seed(1)
pb <- fa.parallel(bfi, fm = "minres", fa = "both", plot = FALSE, n.iter = 2)
out$bfi$parallel <- list(pc_values = pb$pc.values, fa_values = pb$fa.values)
# difference-score reliability inputs: alpha of P and E dimension scores (psych) for the closed form
write_json(out, "tests/reference/validity.json", digits = NA, auto_unbox = TRUE, matrix = "rowmajor")
cat("wrote tests/reference/validity.json\n")
