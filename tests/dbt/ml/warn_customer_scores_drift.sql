{{ config(severity='warn') }}

-- Drift in the scores: the last scored day's score distribution against the one its model version was judged on
-- (fct_order_again_model_score_bins, the test days' deciles), by the population stability index,
-- PSI = sum over bins of (actual share - expected share) * ln(actual share / expected share). Below 0.1 is
-- usually read as stable, 0.1-0.2 as a shift worth a look, above 0.2 as a distribution the model was not judged
-- on: warns above 0.2 with the day, version, PSI and the mean score. Empty bins count as a share of 0.0001
-- (the logarithm of zero is undefined).

{% set max_psi = 0.2 %}
{% set floor_share = 0.0001 %}

with

scores as (
    select * from {{ ref('fct_customer_scores_daily') }}
),

bins as (
    select * from {{ ref('fct_order_again_model_score_bins') }}
),

last_day as (
    select scores.*
    from scores
    where scores.as_of_date = (select max(all_days.as_of_date) as last_as_of_date from scores as all_days)
),

day_totals as (
    select
        as_of_date,
        model_version,
        count(*) as scored_customers,
        avg(score) as mean_score
    from last_day
    group by 1, 2
),

binned as (
    select
        last_day.model_version,
        bins.bin_number,
        count(*) as customers
    from last_day
    inner join bins
        on last_day.model_version = bins.model_version
        and (bins.lower_bound is null or last_day.score >= bins.lower_bound)
        and (bins.upper_bound is null or last_day.score < bins.upper_bound)
    group by 1, 2
),

shares as (
    select
        bins.model_version,
        bins.bin_number,
        greatest(bins.expected_share, {{ floor_share }}) as expected_share,
        greatest(coalesce(binned.customers, 0) * 1.0 / day_totals.scored_customers, {{ floor_share }}) as actual_share
    from bins
    inner join day_totals
        on bins.model_version = day_totals.model_version
    left join binned
        on bins.model_version = binned.model_version
        and bins.bin_number = binned.bin_number
),

psi as (
    select
        model_version,
        sum((actual_share - expected_share) * ln(actual_share / expected_share)) as population_stability_index
    from shares
    group by 1
),

final as (
    select
        day_totals.as_of_date,
        day_totals.model_version,
        day_totals.scored_customers,
        day_totals.mean_score,
        psi.population_stability_index
    from day_totals
    inner join psi
        on day_totals.model_version = psi.model_version
    where psi.population_stability_index > {{ max_psi }}
)

select * from final
