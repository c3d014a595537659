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

    select * from {{ ref('stg_app__customers') }}
    where not is_deleted_in_source

{% endsnapshot %}
