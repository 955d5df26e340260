select
    document_number as document_id,
    term,
    cast(publication_date as date) as published_date
from {{ source('raw_regulatory', 'document_terms') }}
