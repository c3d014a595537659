{{ config(severity='warn') }}

-- The latest model version (the one scoring) should beat the recency baseline on its test days, on both ROC AUC
-- and precision among the top 10 %. Warns listing it with both sets of figures when it does not: its scores then
-- rank customers no better than "the most recent buyers first".

with

model_runs as (
    select * from {{ ref('fct_order_again_model_runs') }}
),

latest as (
    select model_runs.*
    from model_runs
    where model_runs.model_version = (
        select max(ranked.model_version) as latest_version
        from model_runs as ranked
        where ranked.train_end_date = (
            select max(all_runs.train_end_date) as latest_train_end_date from model_runs as all_runs
        )
    )
),

final as (
    select
        model_version,
        model_auc,
        baseline_auc,
        model_precision_at_10,
        baseline_precision_at_10
    from latest
    where
        model_auc <= baseline_auc
        or model_precision_at_10 <= baseline_precision_at_10
)

select * from final
