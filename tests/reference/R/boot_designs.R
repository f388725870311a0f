# Reference intervals for the STRATIFIED bootstrap from boot::boot(strata =) and boot::boot.ci.
# Run from the repository root:  Rscript tests/reference/R/boot_designs.R
# Statistic: the mean gap of item 17 (P17 - E17) in tests/reference/data/example.csv.  Strata: the sign
# of that gap (negative / zero / positive) -- a test device chosen so that stratification changes the
# bootstrap distribution a lot (the within-stratum variance is small), so a design that ignores the
# strata cannot pass.  boot draws the resamples; boot.array() writes them to
# tests/reference/data/boot_strata_indices.csv (1-based, one resample per row) so Python replays them.
suppressPackageStartupMessages({ library(boot); library(jsonlite) })
cat(R.version.string, "boot", as.character(packageVersion("boot")), "\n")
d <- read.csv("tests/reference/data/example.csv")
x <- d$P17 - d$E17
s <- ifelse(x < 0, "neg", ifelse(x == 0, "zero", "pos"))
set.seed(20240613)
b <- boot(x, function(z, i) mean(z[i]), R = 1999, strata = factor(s))
idx <- boot.array(b, indices = TRUE)
write.table(idx, "tests/reference/data/boot_strata_indices.csv", sep = ",", row.names = FALSE, col.names = FALSE)
stopifnot(all(apply(idx, 1, function(r) all(s[r] == s))))  # every draw stays in its respondent's stratum

n <- length(x); nh <- table(s)
# exact (ideal, B -> infinity) stratified-bootstrap variance of the mean: sum_h (n_h/n)^2 s_h^2 / n_h,
# s_h^2 with divisor n_h
v_h <- tapply(x, s, function(z) mean((z - mean(z))^2))
ideal_var_strat <- sum((nh / n)^2 * v_h[names(nh)] / nh)
ideal_var_plain <- mean((x - mean(x))^2) / n

# empirical influence values: stratified jackknife (empinf with strata) and the unstratified x - mean(x)
L_strat <- empinf(b, type = "jack")
L_plain <- x - mean(x)
acc <- function(L) sum(L^3) / (6 * sum(L^2)^1.5)
ci_s <- boot.ci(b, conf = 0.95, type = c("perc", "basic", "bca"), L = L_strat)
ci_p <- boot.ci(b, conf = 0.95, type = "bca", L = L_plain)
# boot.ci's DEFAULT acceleration: influence values by regression of t* on the resampling frequencies
# (empinf type "reg"); for a mean they are exactly (n_h/n)(x - mean_h(x)) -- the stratified influence
# values, centred within strata -- which is what servmodels uses
L_reg <- empinf(b, t = b$t[, 1])
L_closed <- as.numeric(nh[s] / n * (x - ave(x, s)))
stopifnot(max(abs(L_reg - L_closed)) < 1e-10)
ci_d <- boot.ci(b, conf = 0.95, type = "bca")
ci_c <- boot.ci(b, conf = 0.95, type = "bca", L = L_closed)
out <- list(generator = "tests/reference/R/boot_designs.R", r_version = R.version.string,
            boot_version = as.character(packageVersion("boot")), seed = 20240613,
            statistic = "mean of P17 - E17, tests/reference/data/example.csv",
            strata_rule = "neg if gap17 < 0, zero if == 0, pos if > 0",
            n = n, n_h = as.list(nh), t0 = b$t0, n_resamples = nrow(idx),
            ideal_var_stratified = ideal_var_strat, ideal_var_ordinary = ideal_var_plain,
            replicate_var = var(b$t[, 1]),
            perc = ci_s$percent[4:5], basic = ci_s$basic[4:5],
            bca_stratified_jackknife = ci_s$bca[4:5], acceleration_stratified = acc(L_strat),
            bca_ordinary_jackknife = ci_p$bca[4:5], acceleration_ordinary = acc(L_plain),
            bca_default = ci_d$bca[4:5], acceleration_default = acc(L_reg),
            bca_stratified_influence = ci_c$bca[4:5], acceleration_stratified_influence = acc(L_closed),
            L_stratified = unname(L_strat))
write_json(out, "tests/reference/boot_designs.json", digits = NA, auto_unbox = TRUE)
cat("wrote tests/reference/boot_designs.json\n")
