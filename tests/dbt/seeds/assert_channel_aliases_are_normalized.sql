-- The alias seed is looked up with lower(trim(<typed name>)), so every alias must be stored that way.
-- Returns the aliases that would never match.

with

channel_aliases as (
    select * from {{ ref('channel_aliases') }}
),

final as (
    select raw_channel_name
    from channel_aliases
    where raw_channel_name != lower(trim(raw_channel_name))
)

select * from final
