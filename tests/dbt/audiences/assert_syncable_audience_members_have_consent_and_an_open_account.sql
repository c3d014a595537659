-- No member the sync may send lacks marketing consent or has a closed account: the CRM must never receive one.
-- Checked against the customer's latest version in staging (the app database's marketing_consent, read as loaded),
-- not only dim_customers' flag, so a wrong flag in the mart is caught too. Lists each such membership and why.

with

memberships as (
    select * from {{ ref('fct_audience_memberships') }}
    where is_syncable
),

customers as (
    select * from {{ ref('stg_app__customers') }}
),

final as (
    select
        memberships.audience_id,
        memberships.customer_id,
        customers.marketing_consent,
        customers.deleted_at,
        customers.is_deleted_in_source
    from memberships
    left join customers
        on memberships.customer_id = customers.customer_id
    where
        customers.customer_id is null
        or customers.marketing_consent is distinct from 'granted'
        or customers.is_deleted
        or customers.is_deleted_in_source
)

select * from final
