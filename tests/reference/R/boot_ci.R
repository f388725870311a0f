# Reference intervals from boot::boot.ci on a FIXED set of resample indices (so Python can
# replay exactly the same resamples).  Statistic: the gap mean of item 17 and of the
# assurance dimension in the bundled example; studentized intervals use var(mean) = s^2/n.
# Run from the repository root:  Rscript tests/reference/R/boot_ci.R
suppressPackageStartupMessages({ library(boot); library(jsonlite) })
d <- read.csv("servmodels/datasets/bawang_synthetic.csv")
idx <- as.matrix(read.csv("tests/reference/data/boot_indices.csv", header = FALSE))
g17 <- d$P17 - d$E17
ga <- rowMeans(d[, paste0("P", 16:20)]) - rowMeans(d[, paste0("E", 16:20)])
out <- list(generator = "tests/reference/R/boot_ci.R", r_version = R.version.string,
            boot_version = as.character(packageVersion("boot")))
for (nm in c("gap17", "assurance")) {
  x <- if (nm == "gap17") g17 else ga
  k <- 0
  stat <- function(data, i) {
    # boot calls once with 1:n for t0, then once per resample: replay the stored indices
    if (k > 0) i <- idx[k, ]
    k <<- k + 1
    c(mean(data[i]), var(data[i]) / length(i))
  }
  b <- boot(x, stat, R = nrow(idx))
  L <- x - mean(x)  # exact empirical influence (= jackknife influence) of a mean
  ci <- boot.ci(b, conf = 0.95, type = c("perc", "basic", "bca", "stud"), L = L)
  out[[nm]] <- list(t0 = b$t0[1], perc = ci$percent[4:5], basic = ci$basic[4:5], bca = ci$bca[4:5], stud = ci$student[4:5])
}
write_json(out, "tests/reference/boot_ci.json", digits = NA, auto_unbox = TRUE)
cat("wrote tests/reference/boot_ci.json\n")
