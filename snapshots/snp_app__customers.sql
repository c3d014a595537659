{% snapshot snp_app__customers %}

    {{
        config(
            schema='snapshots',
            unique_key='customer_id',
            strategy='timestamp',
            updated_at='updated_at',
            hard_deletes='new_record',
        )
    }}

    {#- Not email_hash, city or postal_code: personal values would outlive the person's erasure in a history. -#}
    select
        customer_id,
        has_phone,
        country_code,
        acquisition_channel,
        created_at,
        updated_at,
        is_deleted,
        deleted_at,
        is_deleted_in_source,
        deleted_in_source_at,
        loaded_at
    from {{ ref('stg_app__customers') }}
    where not is_deleted_in_source

{% endsnapshot %}
