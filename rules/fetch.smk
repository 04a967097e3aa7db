rule fetch:
    input:
        local_source,
    output:
        "results/fetch/{source}.data",
    log:
        "results/logs/fetch/{source}.log",
    conda:
        "../envs/fetch.yaml"
    params:
        source=fetch_params,
    script:
        "../scripts/fetch_source.py"
