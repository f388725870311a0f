# Newton polishing of a lavaan fit, sourced by the reference scripts whose comparisons need the
# optimum more exactly than nlminb delivers (modification indices and residuals move with the
# estimates): Newton steps on lavaan's own objective, with lavaan's analytic gradient
# (lav_model_gradient, as lavTech(fit, "gradient")) and its Hessian by central differences of that
# gradient, along the equality-constraint basis K when group.equal is used; after each step the
# model is refitted at the new values with optim.method = "none" (no optimiser, every statistic
# computed there).  Stops when max |K' gradient| < 1e-12.
#   refit(partable) must return cfa(partable, <the same data and options>, optim.method = "none", ...).
grad_at <- function(f, x, group.weight) {
  M <- lavaan:::lav_model_set_parameters(f@Model, x)
  as.numeric(lavaan:::lav_model_gradient(lavmodel = M, lavsamplestats = f@SampleStats, lavdata = f@Data,
                                         lavcache = f@Cache, type = "free", group.weight = group.weight))
}
basis <- function(f) if (f@Model@eq.constraints) f@Model@eq.constraints.K else diag(length(coef(f)))
polish <- function(f, refit, group.weight = TRUE, steps = 4L) {
  K <- basis(f)
  for (it in seq_len(steps)) {
    x <- coef(f)
    g <- grad_at(f, x, group.weight)
    if (max(abs(t(K) %*% g)) < 1e-12) break
    H <- sapply(seq_len(ncol(K)), function(j) {
      h <- 1e-5 * max(1, sqrt(sum((K[, j] * x)^2)))
      (grad_at(f, x + h * K[, j], group.weight) - grad_at(f, x - h * K[, j], group.weight)) / (2 * h)
    })
    KHK <- t(K) %*% H
    KHK <- (KHK + t(KHK)) / 2
    x <- x - drop(K %*% solve(KHK, t(K) %*% g))
    pt <- parTable(f)
    pt$start[pt$free > 0] <- x
    pt$est[pt$free > 0] <- x
    f <- refit(pt)
  }
  f
}
# max |K' gradient| at the fit's estimates
gradient_norm <- function(f, group.weight = TRUE) max(abs(t(basis(f)) %*% grad_at(f, coef(f), group.weight)))
