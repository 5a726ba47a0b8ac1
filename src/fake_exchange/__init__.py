"""A Binance- and KuCoin-compatible fake exchange."""
