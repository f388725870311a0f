# Reverse-keyed items: psych::alpha on recoded data, and the items psych's key check names.
# Run from the repository root:  Rscript tests/reference/R/psych_keys.R
# Writes tests/reference/psych_keys.json; the Python tests read that JSON only.
# Data: psych::bfi (25 items, 1-6), written to tests/reference/data/bfi.csv; the keys are
# those of psych's bfi.keys (A1, C4, C5, E1, E2, O2, O5 reversed).
suppressPackageStartupMessages({ library(psych); library(jsonlite) })

d <- read.csv("tests/reference/data/bfi.csv")
items <- names(d)[1:25]
x <- d[complete.cases(d[, items]), items]          # listwise over the instrument's items
reversed <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
xr <- x
xr[reversed] <- (1 + 6) - xr[reversed]               # min + max - x
dims <- list(agreeableness = paste0("A", 1:5), conscientiousness = paste0("C", 1:5),
             extraversion = paste0("E", 1:5), neuroticism = paste0("N", 1:5), openness = paste0("O", 1:5))

alpha_of <- function(m) {
  a <- psych::alpha(m, check.keys = FALSE, warnings = FALSE)
  list(raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha, average_r = a$total$average_r,
       items = colnames(m), raw_r = unname(a$item.stats$raw.r), r_drop = unname(a$item.stats$r.drop),
       alpha_drop = unname(a$alpha.drop$raw_alpha), mean = unname(a$item.stats$mean), sd = unname(a$item.stats$sd))
}
# psych's key check: items loading negatively on the first principal component (psych::principal
# signs the component so that its loadings sum to a positive number); run per dimension on raw data
negative_on_pc1 <- function(m) {
  p1 <- psych::principal(m, nfactors = 1, scores = FALSE)
  colnames(m)[as.vector(p1$loadings) < 0]
}
out <- list(generator = "tests/reference/R/psych_keys.R", r_version = R.version.string,
            psych_version = as.character(packageVersion("psych")), n = nrow(x), n_dropped = nrow(d) - nrow(x),
            reversed = reversed, recoded = list(), flagged_raw = list())
for (dn in names(dims)) {
  out$recoded[[dn]] <- alpha_of(xr[, dims[[dn]]])
  out$flagged_raw[[dn]] <- I(negative_on_pc1(x[, dims[[dn]]]))
}
out$total <- alpha_of(xr)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/psych_keys.json")
