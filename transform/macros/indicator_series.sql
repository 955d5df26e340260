{#
  The monthly rows of one prediction's indicator: every signal the registry gives `prediction_id`, from
  int_signal_monthly, with its role. A registered signal without a single observation (e.g. a Wikipedia article
  that answers 404) gets one row in the month of as_of with a NULL value, data_status `no_data`, the source's
  problem in `note` and its fix in `fix`, so the gap is visible instead of silently missing.
#}
{% macro indicator_series(prediction_id) %}
(
    with settings as (
        select * from {{ ref('stg_registry__settings') }}
    ),

    members as (
        select source, signal, role
        from {{ ref('stg_registry__signals') }}
        where prediction_id = '{{ prediction_id }}'
    ),

    observed as (
        select
            '{{ prediction_id }}' as prediction_id,
            monthly.period,
            members.signal,
            monthly.value,
            members.role,
            members.source,
            monthly.measure,
            monthly.level,
            monthly.observations,
            monthly.rolling_3m_avg,
            monthly.change_12m,
            monthly.yoy_growth_pct,
            'ok' as data_status,
            cast(null as varchar) as note,
            cast(null as varchar) as fix
        from {{ ref('int_signal_monthly') }} as monthly
        inner join members on members.source = monthly.source and members.signal = monthly.signal
    ),

    missing as (
        select
            '{{ prediction_id }}' as prediction_id,
            cast(date_trunc('month', settings.as_of) as date) as period,
            members.signal,
            cast(null as double) as value,
            members.role,
            members.source,
            cast(null as varchar) as measure,
            cast(null as double) as level,
            0 as observations,
            cast(null as double) as rolling_3m_avg,
            cast(null as double) as change_12m,
            cast(null as double) as yoy_growth_pct,
            'no_data' as data_status,
            coalesce(status.problem, format('no observations between {} and {}', settings.start_date, settings.as_of))
                as note,
            status.fix
        from members
        cross join settings
        left join {{ ref('int_signal_status') }} as status
            on status.source = members.source and status.signal = members.signal
        where not exists (
            select 1 from observed where observed.source = members.source and observed.signal = members.signal
        )
    )

    select * from observed
    union all
    select * from missing
)
{% endmacro %}

{#
  indicator_series with each article's mean daily views in % of its highest monthly mean so far
  (`pct_of_peak_so_far`), for the predictions whose headline is a share of the peak (kind peak_share).
#}
{% macro peak_share_series(prediction_id) %}
(
    with series as (
        select * from {{ indicator_series(prediction_id) }}
    )

    select
        series.*,
        case when series.source = 'trends' then
            100 * series.value / max(series.value) over (
                partition by series.source, series.signal order by series.period
                rows between unbounded preceding and current row)
        end as pct_of_peak_so_far
    from series
)
{% endmacro %}
