rule figures:
    input:
        # one list per table, over the conditions in plan order (plan.by_condition regroups)
        **PLAN.stats_tables,
        findings="results/stats/findings.tsv",
        baselines=PLAN.baselines,
        curves=PLAN.curves,
        dynamics="results/stats/dynamics.tsv",
        rc=PLAN.rc_tables,
    output:
        **{
            f"{name}_png": report(
                paths["png"], caption=f"../report/{name}.rst", **report_item(name)
            )
            for name, paths in PLAN.figures.items()
        },
        **{f"{name}_pdf": paths["pdf"] for name, paths in PLAN.figures.items()},
    log:
        "results/logs/figures/figures.log",
    conda:
        "../envs/figures.yaml"
    params:
        conditions=list(PLAN.conditions),
        members=PLAN.trained_members,
        stats=settings("stats"),
        facts=FACTS,
        looks=PLAN.looks,
        rc_conditions=PLAN.rc_conditions,
    script:
        "../scripts/plot_figures.py"
