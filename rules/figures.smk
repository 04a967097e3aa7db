rule figures:
    input:
        tables=expand(
            "results/stats/{condition}/{table}.tsv", condition=CONDITIONS, table=TABLES
        ),
        findings="results/stats/findings.tsv",
        baselines=BASELINES,
        curves=CURVES,
        dynamics="results/stats/dynamics.tsv",
    output:
        **{
            f"{name}_png": report(
                f"results/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="Figures",
            )
            for name in FIGURES
        },
        **{f"{name}_pdf": f"results/figures/{name}.pdf" for name in FIGURES},
    log:
        "results/logs/figures/figures.log",
    conda:
        "../envs/figures.yaml"
    params:
        conditions=CONDITIONS,
        dirs=expand("results/stats/{condition}", condition=CONDITIONS),
        members=TRAINED_MEMBERS,
        min_context_bits=config["stats"]["min_context_bits"],
    script:
        "../scripts/plot_figures.py"
