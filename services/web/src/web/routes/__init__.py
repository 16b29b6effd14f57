"""The page routers, in the order the app includes them."""

from web.routes import (
    auth,
    groups,
    home,
    imports,
    library,
    messages,
    operator,
    people,
    programmes,
    school,
    students,
    supervision,
)

ROUTERS = [auth.router, home.router, operator.router, people.router, programmes.router, students.router,
           groups.router, imports.router, library.router, library.files, school.router, messages.router,
           supervision.router]
