# Reference values for classical item analysis from psych::alpha (Revelle).
# Run from the repository root:  Rscript tests/reference/R/psych_alpha.R
# Writes tests/reference/psych_alpha.json; the Python tests read that JSON only.
suppressPackageStartupMessages({ library(psych); library(jsonlite) })

items_of <- function(layout) {
  if (layout == "servqual25") {
    list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
  } else {
    list(tangibles = 1:4, reliability = 5:9, responsiveness = 10:13, assurance = 14:17, empathy = 18:22)
  }
}

analyse <- function(x) {
  a <- suppressWarnings(psych::alpha(x, check.keys = FALSE, warnings = FALSE))
  ci <- psych::alpha.ci(a$total$raw_alpha, nrow(x), ncol(x), p.val = 0.05)
  list(
    raw_alpha = a$total$raw_alpha,
    std_alpha = a$total$std.alpha,
    average_r = a$total$average_r,
    feldt_low = ci$lower.ci,
    feldt_high = ci$upper.ci,
    items = colnames(x),
    raw_r = unname(a$item.stats$raw.r),
    r_drop = unname(a$item.stats$r.drop),
    alpha_drop = unname(a$alpha.drop$raw_alpha),
    std_alpha_drop = unname(a$alpha.drop$std.alpha),
    mean = unname(a$item.stats$mean),
    sd = unname(a$item.stats$sd)
  )
}

cases <- list(
  list(name = "example", file = "tests/reference/data/example.csv", layout = "servqual25"),
  list(name = "sim22", file = "tests/reference/data/sim22.csv", layout = "servqual22")
)
out <- list(
  generator = "tests/reference/R/psych_alpha.R",
  r_version = R.version.string,
  psych_version = as.character(packageVersion("psych")),
  cases = list()
)
for (case in cases) {
  d <- read.csv(case$file)
  res <- list(n = nrow(d), r_critical = NA, sets = list())
  df <- nrow(d) - 2
  t <- qt(0.975, df)
  res$r_critical <- t / sqrt(df + t^2)
  for (set in c("P", "E", "gap")) {
    dims <- list()
    for (dim in names(items_of(case$layout))) {
      idx <- items_of(case$layout)[[dim]]
      if (set == "gap") {
        x <- d[, paste0("P", idx)] - d[, paste0("E", idx)]
        colnames(x) <- paste0("gap", idx)
      } else {
        x <- d[, paste0(set, idx)]
      }
      dims[[dim]] <- analyse(x)
    }
    all_idx <- unlist(items_of(case$layout))
    if (set == "gap") {
      xa <- d[, paste0("P", all_idx)] - d[, paste0("E", all_idx)]
    } else {
      xa <- d[, paste0(set, all_idx)]
    }
    tot <- analyse(xa)
    res$sets[[set]] <- list(dimensions = dims, total = tot)
  }
  out$cases[[case$name]] <- res
}
write_json(out, "tests/reference/psych_alpha.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/reference/psych_alpha.json\n")
