select
    source,
    document_number as document_id,
    cast(publication_date as date) as published_date,
    title,
    doc_type,
    abstract,
    html_url as url,
    agencies
from {{ source('raw_regulatory', 'documents') }}
