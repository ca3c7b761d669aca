def get_toy_strategy() -> ToyStrategy:
    # RHG has no toy variant: the toy setting runs V-PBGD (paper values).
    return ToyStrategy(
        method="v_pbgd",
        gams=(10.0,),
        alpha0=0.1,
    )


def get_hyperclean_strategy(net: str) -> HypercleanStrategy:
    # Truncated RHG: back through the last K=100 of T=500 inner steps (T/5),
    # otherwise as rhg. MLS-Bench does not publish its t_rhg truncation.
    if net == "linear":
        return HypercleanStrategy(
            method="t_rhg",
            lr=0.001,
            lr_inner=0.1,
            outer_itr=100,
            T=500,
            K=100,
            reg=0.0,
            eval_interval=1,
        )
    if net == "mlp":
        return HypercleanStrategy(
            method="t_rhg",
            lr=0.001,
            lr_inner=0.4,
            outer_itr=100,
            T=500,
            K=100,
            reg=0.0,
            eval_interval=1,
        )
    raise ValueError(f"Unsupported network: {net}")
