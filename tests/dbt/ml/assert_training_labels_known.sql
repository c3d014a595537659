-- Every training example's label window (the 30 days after its day) has passed by the last complete business day
-- (the day before var custom_run_started_at): a window reaching past it would hold days not yet seen, and its label
-- would read "did not order" where the truth is not known. Fails listing such examples.

with

training_examples as (
    select * from {{ ref('fct_customer_training_examples') }}
),

run_days as (
    select
        {{ dbt.dateadd(
            'day', -1, "cast(cast('" ~ var('custom_run_started_at') ~ "' as " ~ dbt.type_timestamp() ~ ") as date)"
        ) }} as last_complete_date
),

final as (
    select
        training_examples.customer_id,
        training_examples.as_of_date,
        training_examples.label_window_end_date,
        run_days.last_complete_date
    from training_examples
    cross join run_days
    where training_examples.label_window_end_date > run_days.last_complete_date
)

select * from final
