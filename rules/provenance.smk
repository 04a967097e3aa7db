rule provenance:
    input:
        sources=expand("results/fetch/{source}", source=USED_SOURCES),
        models=expand("results/models/{member}", member=MEMBER_DIRS),
    output:
        table=report(
            "results/provenance.tsv",
            caption="../report/provenance.rst",
            category="Provenance",
        ),
        config="results/provenance.config.json",
    log:
        "results/logs/provenance.log",
    conda:
        "../envs/provenance.yaml"
    params:
        config=config,
        root=workflow.basedir,
    script:
        "../scripts/write_provenance.py"
