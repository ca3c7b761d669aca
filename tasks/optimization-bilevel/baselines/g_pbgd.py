def get_toy_strategy() -> ToyStrategy:
    return ToyStrategy(
        method="g_pbgd",
        gams=(10.0,),
        alpha0=0.1,
    )


def get_hyperclean_strategy(net: str) -> HypercleanStrategy:
    if net == "linear":
        return HypercleanStrategy(
            method="g_pbgd",
            lrx=0.3,
            lry=0.5,
            gamma_init=0.0,
            gamma_max=37.0,
            gamma_argmax_step=5_000,
            outer_itr=40_000,
            reg=0.0,
            eval_interval=10,
        )
    if net == "mlp":
        return HypercleanStrategy(
            method="g_pbgd",
            lrx=0.5,
            lry=0.5,
            gamma_init=0.0,
            gamma_max=37.0,
            gamma_argmax_step=30_000,
            outer_itr=50_000,
            reg=0.0,
            eval_interval=10,
        )
    raise ValueError(f"Unsupported network: {net}")
