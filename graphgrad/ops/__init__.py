"""The built-in ops, one `Function` subclass each, grouped by concept:

- `arithmetic`: + - * / ** neg @
- `elementwise`: exp log log1p expm1 sqrt abs sin cos tanh sigmoid relu leaky_relu maximum
  minimum fmax fmin clip where
- `trigonometric`: tan arcsin arccos arctan arctan2 hypot sinh cosh arcsinh arccosh arctanh
  and by PyTorch's names asin acos atan atan2 asinh acosh atanh
  deg2rad rad2deg and by numpy's other names radians degrees
  sinc
- `powers`: exp2 log2 log10 logaddexp reciprocal cbrt
- `special`: erf erfc erfinv (numpy has none of them)
- `activations`: softplus log_sigmoid elu selu celu silu mish gelu (exact, on erfc, or its
  tanh form), and softsign tanhshrink glu composed of ops
- `piecewise`: hardsigmoid hardswish hardshrink softshrink threshold (with PyTorch's
  gradients at their kinks)
- `reductions`: sum mean prod max min var std norm average
- `cumulative`: cumsum diff cumprod cumulative_sum cumulative_prod
- `differences`: gradient trapezoid ediff1d
- `softmax`: softmax log_softmax logsumexp softmin
- `shape`: reshape transpose swapaxes expand_dims squeeze broadcast_to concatenate stack split
  pad astype
- `rearrange`: flip roll moveaxis repeat tile vstack hstack
- `contraction`: einsum outer tensordot inner kron cross vdot
- `indexing`: t[...] and its scatter-add backward
- `gather`: take_along_axis sort
- `diagonals`: diagonal diag trace triu tril
- `linalg`: inv solve det slogdet cholesky pinv (public as gg.linalg's)
- `decompositions`: eigh svd qr, and eigvalsh svdvals lstsq on them (public as gg.linalg's)
- `quantiles`: quantile percentile median nanquantile nanpercentile nanmedian
- `compositions`: copy atleast_1d atleast_2d atleast_3d column_stack dstack fliplr flipud
  rot90 matrix_transpose unstack block broadcast_arrays meshgrid
- `statistics`: nansum nanmean nan_to_num ptp cov corrcoef nanmax nanmin nanprod nanvar
  nanstd nancumsum nancumprod
- `convolution`: conv2d conv_transpose2d over images (m, n_H, n_W, n_C), conv1d over
  sequences (m, n_L, n_C)
- `pooling`: max_pool2d avg_pool2d max_unpool2d over images, max_pool1d avg_pool1d
  max_unpool1d over sequences
- `patches`: unfold fold (im2col and col2im as ops) pixel_shuffle pixel_unshuffle
- `resampling`: bilinear upsampling and adaptive max pooling, the fused ops of nn's layers
- `windows`: the f x f windows, padding and im2col both of them are built on

`broadcasting.unbroadcast` is the one place numpy broadcasting is undone in backward;
`broadcasting.broadcast_gradient` spreads a reduction's gradient back over its input.
"""
