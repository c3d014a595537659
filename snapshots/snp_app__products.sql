{% snapshot snp_app__products %}

    {{
        config(
            schema='snapshots',
            unique_key='product_id',
            strategy='timestamp',
            updated_at='updated_at',
            hard_deletes='new_record',
        )
    }}

    select * from {{ ref('stg_app__products') }}
    where not is_deleted_in_source

{% endsnapshot %}
