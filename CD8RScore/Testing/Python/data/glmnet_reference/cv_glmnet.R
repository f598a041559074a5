# R's cv.glmnet on a design as cd8rscore fit-signature builds it, over fit-signature's default grid.
# Input (argument 1): CSV without header; column 1 the target, column 2 the fold (1..K), the others the
# candidates (min-max normalised). Output (argument 2): for each L1 ratio (glmnet's alpha), glmnet's
# cross-validated curve: alpha, lambda, cvm, cvsd, nzero, lambda_1se.
# Run: Rscript cv_glmnet.R design.csv glmnet_cv.csv   (R 4.2.2, glmnet 4.1-6 from Debian: apt-get install
# r-base-core r-cran-glmnet)
suppressMessages(library(glmnet))
args <- commandArgs(TRUE)
d <- as.matrix(read.csv(args[1], header = FALSE))
y <- d[, 1]
foldid <- d[, 2]
x <- d[, -(1:2), drop = FALSE]
out <- NULL
for (a in c(0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1)) {
  cv <- cv.glmnet(x, y, alpha = a, nlambda = 100, foldid = foldid)
  out <- rbind(out, data.frame(alpha = a, lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd, nzero = cv$nzero,
                               lambda_1se = cv$lambda.1se))
}
write.csv(out, args[2], row.names = FALSE)
